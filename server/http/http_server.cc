#include "server/http/http_server.h"

#include <functional>
#include <optional>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/log.h"
#include "common/metrics/metrics.h"
#include "dashboard/assets.h"
#include "httplib.h"
#include "server/http/gzip.h"
#include "server/http/metrics_page.h"
#include "server/rpc/server.h"

namespace caviar::http {
namespace {

constexpr char kJson[] = "application/json";
constexpr char kMetricsType[] = "text/plain; version=0.0.4; charset=utf-8";
// Set on a request by the pre-routing handler: the client accepts gzip
// (Route() explains).
constexpr char kGzipMark[] = "X-Caviar-Accepts-Gzip";
constexpr char kEndpoints[] =
    "{\"endpoints\":[\"/api/v1/studies\",\"/api/v1/studies/{name}\","
    "\"/api/v1/studies/{name}/trials\",\"/api/v1/studies/{name}/columns\","
    "\"/api/v1/studies/{name}/best\","
    "\"/api/v1/studies/{name}/importance\",\"/api/v1/studies/{name}/changes\","
    "\"/api/v1/trials/{id}\",\"/metrics\"]}";

void RecordRequest(const std::string& route, int status, absl::Duration latency) {
  static metrics::CounterFamily& requests = metrics::Registry::Default().Counter(
      "caviar_http_requests_total", "HTTP requests answered, by route and status.",
      {"route", "status"});
  static metrics::HistogramFamily& durations = metrics::Registry::Default().Histogram(
      "caviar_http_request_duration_seconds",
      "Time to answer an HTTP request (body written included), by route.", {"route"},
      metrics::LatencyBuckets());
  requests.With({route, absl::StrCat(status)}).Increment();
  durations.With({route}).Observe(absl::ToDoubleSeconds(latency));
}

bool IsLoopbackPeer(const std::string& address) {
  return address.rfind("127.", 0) == 0 || address == "::1" ||
         address.rfind("::ffff:127.", 0) == 0;
}

// gRPC's peer notation, as the audit log shows gRPC callers.
std::string Peer(const httplib::Request& request) {
  const bool v6 = request.remote_addr.find(':') != std::string::npos;
  return v6 ? absl::StrCat("ipv6:[", request.remote_addr, "]:", request.remote_port)
            : absl::StrCat("ipv4:", request.remote_addr, ":", request.remote_port);
}

}  // namespace

HttpServer::HttpServer(scheduling::Coordinator* coordinator, const rpc::Authorizer* auth,
                       rpc::AuditLog* audit, const HttpOptions& options)
    : coordinator_(coordinator),
      auth_(auth),
      audit_(audit),
      options_(options),
      api_(coordinator, options.checkpoints) {}

absl::StatusOr<std::unique_ptr<HttpServer>> HttpServer::Start(
    scheduling::Coordinator* coordinator, const rpc::Authorizer* auth,
    rpc::AuditLog* audit, const HttpOptions& options) {
  const size_t colon = options.listen.rfind(':');
  std::string host = colon == std::string::npos ? "" : options.listen.substr(0, colon);
  int port = -1;
  if (colon != std::string::npos) {
    const std::string digits = options.listen.substr(colon + 1);
    if (!digits.empty() && digits.size() <= 5 &&
        digits.find_first_not_of("0123456789") == std::string::npos) {
      port = std::stoi(digits);
    }
  }
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  if (host.empty() || port < 0 || port > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat("--http: \"", options.listen.substr(0, 128),
                     "\" is not HOST:PORT (a port in [0, 65535]; [V6]:PORT for IPv6)"));
  }
  const bool loopback = rpc::IsLoopbackListenAddress(options.listen);
  if (!loopback && auth->open() && !options.insecure) {
    return absl::FailedPreconditionError(absl::StrCat(
        "refusing to serve HTTP on ", options.listen,
        " without tokens: it is not a loopback address. Give --tokens-file (viewer "
        "tokens are enough here), serve HTTP on 127.0.0.1, or pass --insecure"));
  }
  const bool tls = !options.tls_cert_file.empty() || !options.tls_key_file.empty();
  if (tls && (options.tls_cert_file.empty() || options.tls_key_file.empty()))
    return absl::InvalidArgumentError("HTTP TLS needs both a certificate and a key");
  if (!loopback && auth->open()) {
    CAVIAR_LOG(WARNING) << "serving HTTP on " << options.listen
                        << " WITHOUT tokens (--insecure): anyone who can reach it can "
                           "read every study";
  } else if (!loopback && !tls) {
    CAVIAR_LOG(WARNING) << "serving HTTP on " << options.listen
                        << " with tokens but without TLS: tokens travel in clear text "
                           "(give --tls-cert and --tls-key)";
  }

  std::unique_ptr<HttpServer> server(new HttpServer(coordinator, auth, audit, options));
  if (tls) {
    auto ssl = std::make_unique<httplib::SSLServer>(options.tls_cert_file.c_str(),
                                                    options.tls_key_file.c_str());
    if (!ssl->is_valid()) {
      return absl::InvalidArgumentError(
          absl::StrCat("HTTP TLS: cannot load the certificate ", options.tls_cert_file,
                       " with the key ", options.tls_key_file));
    }
    server->server_ = std::move(ssl);
  } else {
    server->server_ = std::make_unique<httplib::Server>();
  }
  server->tls_ = tls;
  const int threads = std::max(1, options.threads);
  server->server_->new_task_queue = [threads] {
    return new httplib::ThreadPool(threads);
  };
  // Only GET requests: no body is ever needed.
  server->server_->set_payload_max_length(64 << 10);
  server->Route();
  server->port_ = port == 0 ? server->server_->bind_to_any_port(host)
                            : (server->server_->bind_to_port(host, port) ? port : -1);
  if (server->port_ <= 0)
    return absl::UnavailableError(absl::StrCat("cannot listen on ", options.listen));
  server->host_ = colon != std::string::npos && options.listen[0] == '['
                      ? absl::StrCat("[", host, "]")
                      : host;
  server->thread_ = std::thread([s = server->server_.get()] { s->listen_after_bind(); });
  server->warm_thread_ =
      std::thread([s = server.get()] { s->api_.Warm(&s->stop_warming_); });
  return server;
}

HttpServer::~HttpServer() { Shutdown(); }

std::string HttpServer::url() const {
  return absl::StrCat(tls_ ? "https://" : "http://", host_, ":", port_);
}

void HttpServer::Shutdown() {
  stop_warming_ = true;
  if (server_ != nullptr) server_->stop();
  if (thread_.joinable()) thread_.join();
  if (warm_thread_.joinable()) warm_thread_.join();
}

void HttpServer::Route() {
  using Request = httplib::Request;
  using Answer = std::function<JsonResponse(const Request&)>;
  // Every request: authorize (viewer), answer, audit a refusal, count.
  auto handle = [this](const std::string& route, const char* content_type,
                       Answer answer) {
    return [this, route, content_type, answer](const Request& request,
                                               httplib::Response& response) {
      const absl::Time start = absl::Now();
      rpc::Caller caller;
      const bool has_header = request.has_header("Authorization");
      const std::string value = request.get_header_value("Authorization");
      const std::string_view header = value;
      const absl::Status allowed = auth_->CheckAuthorization(
          has_header ? &header : nullptr, rpc::Access::kRead, &caller);
      JsonResponse reply;
      const char* type = content_type;
      if (allowed.ok()) {
        reply = answer(request);
      } else {
        reply = ErrorResponse(allowed);
        type = kJson;
        if (reply.http_status == 401)
          response.set_header("WWW-Authenticate", "Bearer realm=\"caviar\"");
      }
      if (reply.http_status != 200) {
        type = kJson;
        audit_->Refused(absl::StrCat(request.method, " ", request.path), Peer(request),
                        caller.credential,
                        grpc::Status(static_cast<grpc::StatusCode>(reply.status.code()),
                                     std::string(reply.status.message())));
      }
      response.status = reply.http_status;
      // Binary columns (JSON-free doubles) shrink to a third, at ~0.1 s of
      // CPU per 100,000 trials on each side (several times that on a
      // loaded machine); a loopback peer has the bandwidth to spare.
      const bool binary_to_loopback = reply.http_status == 200 &&
                                      reply.content_type == kBinaryContentType &&
                                      IsLoopbackPeer(request.remote_addr);
      if (request.has_header(kGzipMark) && !binary_to_loopback) {
        if (std::optional<std::string> gzip = GzipFast(reply.body)) {
          reply.body = *std::move(gzip);
          response.set_header("Content-Encoding", "gzip");
        }
      }
      response.set_header("Vary", "Accept-Encoding");
      response.set_header("Cache-Control", "no-store");
      response.set_header("X-Content-Type-Options", "nosniff");
      if (reply.http_status == 200 && !reply.content_type.empty())
        type = reply.content_type.c_str();
      response.set_content(std::move(reply.body), type);
      RecordRequest(route, reply.http_status, absl::Now() - start);
    };
  };
  auto json = [&](const std::string& route, Answer answer) {
    return handle(route, kJson, std::move(answer));
  };
  httplib::Server& s = *server_;
  // cpp-httplib picks brotli whenever a client accepts it (every browser
  // does), at brotli's slowest quality: 18 s for a 5 MB page of trials on
  // a loaded 2-core machine, where gzip takes 1 s. Offer gzip only. The
  // API's answers are gzip'd by `handle` at zlib's fastest level (gzip.h):
  // cpp-httplib is told the client takes none, and kGzipMark says it does.
  s.set_pre_routing_handler([](const Request& request, httplib::Response&) {
    auto& headers = const_cast<Request&>(request).headers;
    headers.erase(kGzipMark);
    auto it = headers.find("Accept-Encoding");
    if (it == headers.end()) return httplib::Server::HandlerResponse::Unhandled;
    const bool gzip = it->second.find("gzip") != std::string::npos;
    const bool api = request.path.rfind("/api/", 0) == 0;
    it->second = gzip && !api ? "gzip" : "identity";
    if (gzip && api) headers.emplace(kGzipMark, "1");
    return httplib::Server::HandlerResponse::Unhandled;
  });
  s.Get("/metrics", handle("/metrics", kMetricsType, [this](const Request&) {
          JsonResponse reply;
          reply.body = RenderMetricsPage(*coordinator_, options_.database_path);
          return reply;
        }));
  s.Get("/api/v1/studies", json("/api/v1/studies", [this](const Request& r) {
          return api_.Studies(r.params);
        }));
  s.Get(R"(/api/v1/studies/([^/]+))",
        json("/api/v1/studies/{name}",
             [this](const Request& r) { return api_.Study(r.matches[1], r.params); }));
  s.Get(R"(/api/v1/studies/([^/]+)/trials)",
        json("/api/v1/studies/{name}/trials",
             [this](const Request& r) { return api_.Trials(r.matches[1], r.params); }));
  s.Get(R"(/api/v1/studies/([^/]+)/columns)",
        json("/api/v1/studies/{name}/columns",
             [this](const Request& r) { return api_.Columns(r.matches[1], r.params); }));
  s.Get(R"(/api/v1/studies/([^/]+)/best)",
        json("/api/v1/studies/{name}/best",
             [this](const Request& r) { return api_.Best(r.matches[1], r.params); }));
  s.Get(R"(/api/v1/studies/([^/]+)/importance)",
        json("/api/v1/studies/{name}/importance", [this](const Request& r) {
          return api_.Importance(r.matches[1], r.params);
        }));
  s.Get(R"(/api/v1/studies/([^/]+)/changes)",
        json("/api/v1/studies/{name}/changes",
             [this](const Request& r) { return api_.Changes(r.matches[1], r.params); }));
  s.Get(R"(/api/v1/trials/([^/]+))",
        json("/api/v1/trials/{id}",
             [this](const Request& r) { return api_.Trial(r.matches[1], r.params); }));
  s.Get("/api/v1", json("/api/v1", [](const Request&) {
          JsonResponse reply;
          reply.body = kEndpoints;
          return reply;
        }));
  // The dashboard's pages (dashboard/assets.h): code with no study data in
  // it, so served without a token (a browser cannot attach one to a page
  // load); the page sends the viewer token with every API call it makes.
  auto page = [](const std::string& route, std::string name) {
    return [route, name](const Request& request, httplib::Response& response) {
      const absl::Time start = absl::Now();
      const std::string file = name.empty() ? std::string(request.matches[1]) : name;
      const std::optional<dashboard::Asset> asset = dashboard::FindAsset(file);
      if (!asset.has_value()) {
        response.status = 404;
        response.set_content(
            ErrorResponse(absl::NotFoundError(absl::StrCat("no such dashboard file: ",
                                                           file.substr(0, 128))))
                .body,
            kJson);
      } else {
        response.status = 200;
        response.set_header("Cache-Control", "no-cache");
        response.set_header("X-Content-Type-Options", "nosniff");
        response.set_content(asset->content.data(), asset->content.size(),
                             asset->content_type);
      }
      RecordRequest(route, response.status, absl::Now() - start);
    };
  };
  s.Get("/", page("/", "index.html"));
  s.Get(R"(/dashboard/([A-Za-z0-9_.-]+))", page("/dashboard/{file}", ""));
  s.Get(".*", json("other", [](const Request& r) {
          return ErrorResponse(absl::NotFoundError(absl::StrCat(
              "no such endpoint: ", r.path.substr(0, 128), " (see /api/v1)")));
        }));
  // Anything but GET (and HEAD): the port is read-only.
  auto read_only = json("other", [](const Request& r) {
    JsonResponse reply = ErrorResponse(absl::InvalidArgumentError(
        absl::StrCat(r.method,
                     " is not served: the HTTP port is read-only (GET); change studies "
                     "over gRPC (the caviar CLI)")));
    reply.http_status = 405;
    return reply;
  });
  s.Post(".*", read_only);
  s.Put(".*", read_only);
  s.Patch(".*", read_only);
  s.Delete(".*", read_only);
  s.Options(".*", read_only);
}

}  // namespace caviar::http
