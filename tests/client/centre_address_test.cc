#include <catch2/catch.hpp>

#include "client/centre_address.h"

using relais::ErrorCode;
using relais::client::CheckCentreAddress;
using relais::client::IsClearTextToNetwork;
using relais::client::IsLoopbackHost;

TEST_CASE("loopback is localhost, 127.0.0.0/8 and ::1, nothing else", "[centre_address]") {
  auto [host, loopback] = GENERATE(table<std::string, bool>({{"localhost", true},
                                                             {"LocalHost", true},
                                                             {"127.0.0.1", true},
                                                             {"127.255.255.254", true},
                                                             {"[::1]", true},
                                                             {"::1", true},
                                                             {"0.0.0.0", false},
                                                             {"128.0.0.1", false},
                                                             {"10.0.0.1", false},
                                                             {"127.0.0.1.exemple.fr", false},
                                                             {"localhost.exemple.fr", false},
                                                             {"[::ffff:127.0.0.1]", false},
                                                             {"[::]", false},
                                                             {"", false}}));
  INFO(host);
  CHECK(IsLoopbackHost(host) == loopback);
}

TEST_CASE("an address is refused in clear unless https, loopback or --insecure-http", "[centre_address]") {
  auto [url, allowed] = GENERATE(table<std::string, bool>({{"https://relais.exemple.fr", true},
                                                           {"https://relais.exemple.fr:8443/", true},
                                                           {"http://127.0.0.1:8080", true},
                                                           {"http://localhost:8080/", true},
                                                           {"http://[::1]:8080", true},
                                                           {"http://127.1:8080", true},  // libcurl reads 127.0.0.1
                                                           {"http://relais.exemple.fr", false},
                                                           {"http://0.0.0.0:8080", false},
                                                           {"http://192.168.1.10:8080", false},
                                                           // the host is what follows the user part
                                                           {"http://127.0.0.1@relais.exemple.fr/", false},
                                                           {"http://127.0.0.1:80@relais.exemple.fr/", false},
                                                           {"http://relais.exemple.fr#@127.0.0.1", false},
                                                           {"http://relais.exemple.fr?@127.0.0.1", false},
                                                           {"http://127.0.0.1.exemple.fr", false}}));
  INFO(url);
  const relais::Status checked = CheckCentreAddress(url, false);
  CHECK(checked.ok() == allowed);
  CHECK(IsClearTextToNetwork(url) == !allowed);
  if (!allowed) {
    CHECK(checked.error().code == ErrorCode::kUsage);
    CHECK_THAT(checked.error().message, Catch::Contains("https://") && Catch::Contains("--insecure-http"));
    CHECK(CheckCentreAddress(url, true).ok());
  }
}

TEST_CASE("an address that is not http:// or https:// is refused even with --insecure-http", "[centre_address]") {
  for (const std::string url : {"ftp://relais.exemple.fr", "relais.exemple.fr", "file:///etc/passwd", "http//x", ""}) {
    INFO(url);
    const relais::Status checked = CheckCentreAddress(url, true);
    REQUIRE_FALSE(checked.ok());
    CHECK_THAT(checked.error().message, Catch::Contains("n'est pas une adresse http:// ou https://"));
  }
}
