// A temporary directory removed (with its contents) when the object dies.
#ifndef CAVIAR_TESTS_TESTING_TEMP_DIR_H_
#define CAVIAR_TESTS_TESTING_TEMP_DIR_H_

#include <cstdlib>
#include <filesystem>
#include <string>

namespace caviar::testing {

class TempDir {
 public:
  TempDir() {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "caviar-test-XXXXXX").string();
    path_ = ::mkdtemp(pattern.data());
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  const std::string& path() const { return path_; }
  std::string File(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

}  // namespace caviar::testing

#endif  // CAVIAR_TESTS_TESTING_TEMP_DIR_H_
