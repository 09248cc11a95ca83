// Gzip: the JSON API's answers compressed at zlib's fastest level.
// cpp-httplib compresses at zlib's default level (6): 2 s for a 10 MB page
// of a 100,000-trial study on a loaded 2-core machine, where level 1 takes
// a third of that for a slightly larger answer (ratio ~3.5 instead of ~4
// for that page). http_server.cc takes compression from cpp-httplib for the
// API's answers and calls this instead.
//
// Thread-safety: a pure function.
#ifndef CAVIAR_SERVER_HTTP_GZIP_H_
#define CAVIAR_SERVER_HTTP_GZIP_H_

#include <optional>
#include <string>

#include "absl/strings/string_view.h"

namespace caviar::http {

// `data` in the gzip format (RFC 1952) at level 1; nullopt if zlib fails.
std::optional<std::string> GzipFast(absl::string_view data);

}  // namespace caviar::http

#endif  // CAVIAR_SERVER_HTTP_GZIP_H_
