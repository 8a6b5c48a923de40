#include "server/access.h"

#include <sys/random.h>

#include <cctype>
#include <stdexcept>

#include "util/sha256.h"

namespace dr::server {
namespace {

constexpr const char* kCookie = "darkroom_session";
constexpr auto kSessionLife = std::chrono::hours(24 * 30);

std::string lower(std::string s) {
  for (auto& c : s) c = char(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string random_hex(size_t bytes) {
  std::string raw(bytes, '\0');
  size_t got = 0;
  while (got < bytes) {
    ssize_t n = getrandom(raw.data() + got, bytes - got, 0);
    if (n < 0) throw std::runtime_error("the system's random source failed");
    got += size_t(n);
  }
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (unsigned char c : raw) {
    out += digits[c >> 4];
    out += digits[c & 15];
  }
  return out;
}

bool changes_state(const std::string& method) { return method != "GET" && method != "HEAD"; }

}  // namespace

Response error_response(int status, const std::string& sentence) {
  return json_response(status, {{"error", sentence}});
}

Response json_response(int status, const nlohmann::json& j) {
  Response r;
  r.status = status;
  r.body = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  r.header("Content-Type", "application/json");
  r.header("Cache-Control", "no-store");
  return r;
}

Access::Access(catalog::Store& store, AccessOptions o) : store_(store), o_(std::move(o)) {
  for (auto& h : o_.hosts) h = lower(h);
}

std::string Access::new_token() { return "drt_" + random_hex(32); }
std::string Access::hash_token(const std::string& token) { return util::sha256_hex(token); }

bool Access::host_ok(const Request& r) const {
  if (o_.hosts.empty()) return true;
  std::string host = lower(r.header("host"));
  if (host.empty()) return false;
  std::string name = host;
  if (auto colon = host.rfind(':'); colon != std::string::npos && host.find(']', colon) == std::string::npos)
    name = host.substr(0, colon);
  for (const auto& h : o_.hosts)
    if (h == host || h == name) return true;
  return false;
}

std::string Access::cookie_session(const Request& r) const {
  std::string c = r.header("cookie");
  std::string key = std::string(kCookie) + "=";
  size_t pos = 0;
  while ((pos = c.find(key, pos)) != std::string::npos) {
    if (pos == 0 || c[pos - 1] == ' ' || c[pos - 1] == ';') {
      auto end = c.find(';', pos);
      return c.substr(pos + key.size(), end == std::string::npos ? std::string::npos : end - pos - key.size());
    }
    pos += key.size();
  }
  return {};
}

bool Access::authenticated(const Request& r) {
  std::string a = r.header("authorization");
  if (a.size() > 7 && lower(a.substr(0, 7)) == "bearer ") {
    std::string token = a.substr(7);
    while (!token.empty() && token.back() == ' ') token.pop_back();
    return !token.empty() && token.size() < 200 && store_.token_by_sha256(hash_token(token)).has_value();
  }
  std::string s = cookie_session(r);
  if (s.empty() || s.size() > 200) return false;
  std::string token_sha256;
  {
    std::lock_guard lock(mu_);
    auto it = sessions_.find(hash_token(s));
    if (it == sessions_.end()) return false;
    if (it->second.expires < std::chrono::steady_clock::now()) {
      sessions_.erase(it);
      return false;
    }
    token_sha256 = it->second.token_sha256;
  }
  return store_.token_by_sha256(token_sha256).has_value();
}

std::optional<Response> Access::check(const Request& r) {
  if (!host_ok(r))
    return error_response(421, "this server does not answer to the host \"" + r.header("host").substr(0, 100) +
                                   "\"; open it by its address, or start it with --allow-host NAME");
  if (changes_state(r.method)) {
    std::string origin = lower(r.header("origin"));
    if (!origin.empty() && origin != "http://" + lower(r.header("host")) &&
        origin != "https://" + lower(r.header("host")))
      return error_response(
          403, "a request from another site (Origin " + origin.substr(0, 100) + ") may not change this library");
    if (r.header("x-darkroom").empty())
      return error_response(403,
                            "a request that changes the library must carry the header \"X-Darkroom: 1\" (a "
                            "protection against requests forged by other sites)");
  }
  bool api = r.path.rfind("/api/", 0) == 0;
  if (!o_.auth || !api || r.path == "/api/session") return std::nullopt;
  if (authenticated(r)) return std::nullopt;
  auto res = error_response(401,
                            "this server needs a token: send \"Authorization: Bearer TOKEN\" or sign in on the page; "
                            "`darkroom token create` makes one");
  res.header("WWW-Authenticate", "Bearer realm=\"darkroom\"");
  return res;
}

Response Access::session(const Request& r) {
  if (r.method == "GET" || r.method == "HEAD")
    return json_response(200, {{"auth", o_.auth}, {"authenticated", !o_.auth || authenticated(r)}});
  if (r.method == "DELETE") {
    std::string s = cookie_session(r);
    if (!s.empty()) {
      std::lock_guard lock(mu_);
      sessions_.erase(hash_token(s));
    }
    auto res = json_response(200, {{"authenticated", false}});
    res.header("Set-Cookie", std::string(kCookie) + "=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0");
    return res;
  }
  if (r.method != "POST") return error_response(405, "use GET, POST or DELETE on /api/session");
  auto body = nlohmann::json::parse(r.body, nullptr, false);
  if (body.is_discarded() || !body.is_object() || !body.contains("token") || !body["token"].is_string())
    return error_response(400, "send {\"token\": \"...\"}, a token made by `darkroom token create`");
  std::string token = body["token"].get<std::string>();
  if (!o_.auth) return json_response(200, {{"authenticated", true}, {"auth", false}});
  if (token.empty() || token.size() > 200 || !store_.token_by_sha256(hash_token(token)))
    return error_response(401, "that token is not one of this library's; `darkroom token list` shows them");
  std::string s = random_hex(32);
  {
    std::lock_guard lock(mu_);
    auto now = std::chrono::steady_clock::now();
    std::erase_if(sessions_, [&](const auto& kv) { return kv.second.expires < now; });
    sessions_[hash_token(s)] = {now + kSessionLife, hash_token(token)};
  }
  auto res = json_response(200, {{"authenticated", true}, {"auth", true}});
  res.header("Set-Cookie", std::string(kCookie) + "=" + s + "; Path=/; HttpOnly; SameSite=Strict; Max-Age=" +
                               std::to_string(std::chrono::duration_cast<std::chrono::seconds>(kSessionLife).count()));
  return res;
}

}  // namespace dr::server
