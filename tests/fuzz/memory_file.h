// A file in memory (memfd) holding fuzz input, for readers that take a path:
// /proc/self/fd/N opens it like any file, and nothing touches the disk.
#ifndef CAVIAR_TESTS_FUZZ_MEMORY_FILE_H_
#define CAVIAR_TESTS_FUZZ_MEMORY_FILE_H_

#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <string>

namespace caviar::fuzz {

class MemoryFile {
 public:
  MemoryFile(const uint8_t* data, size_t size) : fd_(memfd_create("fuzz", 0)) {
    if (fd_ < 0) std::abort();
    size_t written = 0;
    while (written < size) {
      ssize_t n = write(fd_, data + written, size - written);
      if (n <= 0) std::abort();
      written += static_cast<size_t>(n);
    }
  }
  ~MemoryFile() { close(fd_); }
  MemoryFile(const MemoryFile&) = delete;
  MemoryFile& operator=(const MemoryFile&) = delete;

  std::string path() const { return "/proc/self/fd/" + std::to_string(fd_); }

 private:
  int fd_;
};

}  // namespace caviar::fuzz

#endif  // CAVIAR_TESTS_FUZZ_MEMORY_FILE_H_
