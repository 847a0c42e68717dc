// How the front stops: the request in progress is answered, a request begun meanwhile gets 503
// with Retry-After, and once Serve() has returned the port is closed.

#include <httplib.h>

#include <catch2/catch.hpp>
#include <future>
#include <thread>

#include "server/front.h"

namespace relais::server::front {
namespace {

TEST_CASE("a stopping front answers the request in progress, refuses new ones with 503, then closes its port",
          "[front]") {
  FrontOptions options;
  options.log = [](std::string_view) {};
  Front front(options);
  std::promise<void> entered;
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  front.Route("GET", "/slow", [&](const Request&, Response& res, LogNote&) {
    entered.set_value();
    released.wait();
    res.set_content("fini", "text/plain");
  });
  front.Route("GET", "/quick", [](const Request&, Response& res, LogNote&) { res.set_content("ok", "text/plain"); });
  auto port = front.Bind("127.0.0.1", 0);
  REQUIRE(port);
  std::thread serving([&] { REQUIRE(front.Serve()); });
  while (!front.IsServing()) std::this_thread::yield();

  auto slow = std::async(std::launch::async, [&] { return httplib::Client("127.0.0.1", *port).Get("/slow"); });
  entered.get_future().wait();
  {
    auto quick = httplib::Client("127.0.0.1", *port).Get("/quick");
    REQUIRE(quick);
    CHECK(quick->status == 200);
  }
  front.Stop();
  // Serve() turns to draining once it sees the request to stop: new requests then get 503.
  httplib::Response refused;
  for (;;) {
    auto r = httplib::Client("127.0.0.1", *port).Get("/quick");
    REQUIRE(r);
    refused = *r;
    if (refused.status != 200) break;
  }
  CHECK(refused.status == 503);
  CHECK(refused.get_header_value("Retry-After") == "1");
  CHECK(refused.body.find("réessayez") != std::string::npos);
  CHECK(front.IsServing());  // still waiting for /slow

  release.set_value();
  auto answered = slow.get();
  REQUIRE(answered);
  CHECK(answered->status == 200);
  CHECK(answered->body == "fini");
  serving.join();
  CHECK_FALSE(front.IsServing());
  httplib::Client after("127.0.0.1", *port);
  after.set_connection_timeout(1);
  CHECK_FALSE(after.Get("/quick"));  // the listening socket is closed
}

}  // namespace
}  // namespace relais::server::front
