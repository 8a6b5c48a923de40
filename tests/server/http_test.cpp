// What a connection of `darkroom serve` answers to bytes, read as it reads a socket (server::answer_bytes: the
// same Beast parser, limits and buffer as the server's connections, without a socket): the path fuzz/http_fuzz.cpp
// drives with any bytes.
#include "server/http.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace dr::server {
namespace {

// Echoes what the handler was given.
Response echo(const Request& r) {
  Response res;
  res.header("Content-Type", "application/json");
  res.body = nlohmann::json{{"method", r.method}, {"path", r.path}, {"query", r.query}, {"body", r.body}}.dump();
  return res;
}

std::string error_of(const Response& r) { return nlohmann::json::parse(r.body).at("error").get<std::string>(); }

TEST(Http, RequestsArriveAsTheHandlerSeesThem) {
  HttpOptions o;
  for (size_t chunk : {size_t(0), size_t(1), size_t(7)}) {  // all at once, or a few bytes per read
    auto answers = answer_bytes(
        "GET /api/search?q=caf%C3%A9+cr%C3%A8me&limit=5 HTTP/1.1\r\nHost: h\r\n\r\n"
        "POST /api/retry HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n4\r\n{\"a\"\r\n3\r\n:1}\r\n0\r\n\r\n",
        o, echo, chunk);
    ASSERT_EQ(answers.size(), 2u) << chunk;  // two requests on one kept-alive connection
    auto first = nlohmann::json::parse(answers[0].body);
    EXPECT_EQ(first["path"], "/api/search");
    EXPECT_EQ(first["query"]["q"], "café crème");
    EXPECT_EQ(first["query"]["limit"], "5");
    auto second = nlohmann::json::parse(answers[1].body);
    EXPECT_EQ(second["method"], "POST");
    EXPECT_EQ(second["body"], "{\"a\":1}");
  }
  // Connection: close ends the list; bytes that end between requests give nothing more.
  EXPECT_EQ(answer_bytes("GET / HTTP/1.1\r\nConnection: close\r\n\r\nGET / HTTP/1.1\r\n\r\n", o, echo).size(), 1u);
  EXPECT_TRUE(answer_bytes("", o, echo).empty());
}

TEST(Http, BytesTheServerRefusesGetA4xxWithASentence) {
  HttpOptions o;
  o.max_header_bytes = 1024;
  o.max_body_bytes = 100;
  struct Case {
    std::string bytes;
    int status;
    const char* says;
  };
  for (const auto& c : {Case{"GET / HTTP/1.1\r\nX: " + std::string(2000, 'a') + "\r\n\r\n", 431, "headers"},
                        Case{"POST / HTTP/1.1\r\nContent-Length: 101\r\n\r\n" + std::string(101, 'a'), 413, "body"},
                        Case{"POST / HTTP/1.1\r\nContent-Length: 50\r\n\r\nshort", 400, "could not be read"},
                        Case{"GET /%zz HTTP/1.1\r\n\r\n", 400, "not a valid URL path"},
                        Case{"GET /a?b=%00 HTTP/1.1\r\n\r\n", 400, "not a valid URL path"},
                        Case{"GET relative HTTP/1.1\r\n\r\n", 400, "not a valid URL path"},
                        Case{"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 400, "could not be read"}}) {
    auto answers = answer_bytes(c.bytes, o, echo);
    ASSERT_EQ(answers.size(), 1u) << c.bytes.substr(0, 40);
    EXPECT_EQ(answers[0].status, c.status) << c.bytes.substr(0, 40);
    EXPECT_NE(error_of(answers[0]).find(c.says), std::string::npos) << error_of(answers[0]);
  }
}

TEST(Http, AHandlerThatThrowsIsA500NotACrash) {
  auto answers = answer_bytes("GET / HTTP/1.1\r\n\r\n", HttpOptions{},
                              [](const Request&) -> Response { throw std::runtime_error("broken"); });
  ASSERT_EQ(answers.size(), 1u);
  EXPECT_EQ(answers[0].status, 500);
  EXPECT_EQ(error_of(answers[0]), "internal error: broken");
}

}  // namespace
}  // namespace dr::server
