// Who may use `darkroom serve`, checked before any handler runs:
//   - Host: the Host header must name this server (a listening address, or a name given with --allow-host), so a
//     web page on another site cannot reach a loopback server through DNS rebinding;
//   - CSRF: a call that changes anything must use POST, PUT or DELETE and carry the header "X-Darkroom: 1" (a
//     page on another origin cannot send it without a CORS preflight, which this server never grants), and an
//     Origin header, when sent, must be this server's;
//   - tokens: with authentication on (always when listening beyond loopback), every /api/ call needs a token made
//     by `darkroom token create` (stored hashed), as "Authorization: Bearer TOKEN", or the session cookie that
//     POST /api/session gives for one (HttpOnly, SameSite=Strict). Without them: 401.
#pragma once
#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "catalog/store.h"
#include "server/http.h"

namespace dr::server {

struct AccessOptions {
  bool auth = false;
  // Host header values accepted: "name:port", or "name" for any port. Empty: any (only when listening on every
  // address with authentication on, where the names are not known).
  std::vector<std::string> hosts;
};

class Access {
 public:
  Access(catalog::Store& store, AccessOptions o);

  // nullopt when the request may go on; else the response that refuses it.
  std::optional<Response> check(const Request& r);

  // /api/session: GET says whether authentication is on and whether this request has it; POST {"token": T}
  // exchanges a token for the session cookie; DELETE ends the session.
  Response session(const Request& r);

  bool auth() const { return o_.auth; }

  // A new token: "drt_" and 64 hex digits from the system's random source.
  static std::string new_token();
  static std::string hash_token(const std::string& token);

 private:
  bool host_ok(const Request& r) const;
  bool authenticated(const Request& r);
  std::string cookie_session(const Request& r) const;

  catalog::Store& store_;
  AccessOptions o_;
  std::mutex mu_;
  struct SessionEntry {
    std::chrono::steady_clock::time_point expires;
    std::string token_sha256;  // the token it was made with: revoking the token ends the session
  };
  std::map<std::string, SessionEntry> sessions_;  // sha256 of the cookie -> its session
};

// {"error": sentence} with a status.
Response error_response(int status, const std::string& sentence);
Response json_response(int status, const nlohmann::json& j);

}  // namespace dr::server
