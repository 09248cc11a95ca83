// The dashboard's files (dashboard/*.html, *.css, *.js), embedded in the
// binary at build time (embed.cmake), served by server/http on the
// coordinator's HTTP port. Plain data: thread-safe.
#ifndef CAVIAR_DASHBOARD_ASSETS_H_
#define CAVIAR_DASHBOARD_ASSETS_H_

#include <cstddef>
#include <optional>
#include <string_view>

namespace caviar::dashboard {

struct Asset {
  std::string_view content;
  const char* content_type;  // With charset.
};

// The file named `name` ("app.js", "index.html"), or nullopt when the
// dashboard has no such file.
std::optional<Asset> FindAsset(std::string_view name);

namespace internal {
struct EmbeddedFile {
  const char* name;
  const char* data;
  size_t size;
};
// Generated: every file, then {nullptr, nullptr, 0}.
extern const EmbeddedFile kFiles[];
}  // namespace internal

}  // namespace caviar::dashboard

#endif  // CAVIAR_DASHBOARD_ASSETS_H_
