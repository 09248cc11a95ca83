#include "dashboard/assets.h"

namespace caviar::dashboard {
namespace {

const char* ContentType(std::string_view name) {
  auto ends_with = [&](std::string_view suffix) {
    return name.size() >= suffix.size() &&
           name.substr(name.size() - suffix.size()) == suffix;
  };
  if (ends_with(".html")) return "text/html; charset=utf-8";
  if (ends_with(".css")) return "text/css; charset=utf-8";
  if (ends_with(".js")) return "text/javascript; charset=utf-8";
  return "application/octet-stream";
}

}  // namespace

std::optional<Asset> FindAsset(std::string_view name) {
  for (const internal::EmbeddedFile* f = internal::kFiles; f->name != nullptr; ++f) {
    if (name == f->name) return Asset{std::string_view(f->data, f->size), ContentType(name)};
  }
  return std::nullopt;
}

}  // namespace caviar::dashboard
