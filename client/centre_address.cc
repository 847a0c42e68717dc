#include "client/centre_address.h"

#include <arpa/inet.h>

#include <memory>
#include <optional>
#include <utility>

#include "base/text.h"
#include "client/curl_api.h"

namespace relais::client {

namespace {

struct UrlFree {
  const CurlApi* curl;
  void operator()(CURLU* u) const { curl->url_cleanup(u); }
};
struct CurlTextFree {
  const CurlApi* curl;
  void operator()(char* p) const { curl->free(p); }
};

// The scheme and host of `url` as libcurl reads them (scheme and host in lower case, IPv6 in
// brackets, IPv4 numbers in dotted form), or nothing when libcurl cannot parse it.
struct SchemeHost {
  std::string scheme, host;
};
std::optional<SchemeHost> Parse(const std::string& url) {
  auto api = Curl();
  if (!api) return std::nullopt;
  const CurlApi* c = *api;
  std::unique_ptr<CURLU, UrlFree> parsed(c->url(), UrlFree{c});
  if (!parsed || c->url_set(parsed.get(), CURLUPART_URL, url.c_str(), 0) != CURLUE_OK) return std::nullopt;
  SchemeHost out;
  for (auto [part, text] : {std::pair{CURLUPART_SCHEME, &out.scheme}, std::pair{CURLUPART_HOST, &out.host}}) {
    char* raw = nullptr;
    if (c->url_get(parsed.get(), part, &raw, 0) != CURLUE_OK) return std::nullopt;
    std::unique_ptr<char, CurlTextFree> kept(raw, CurlTextFree{c});
    *text = raw;
    LowerAsciiInPlace(*text);
  }
  return out;
}

}  // namespace

bool IsLoopbackHost(std::string host) {
  LowerAsciiInPlace(host);
  if (host == "localhost") return true;
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  in_addr v4{};
  if (inet_pton(AF_INET, host.c_str(), &v4) == 1) return (ntohl(v4.s_addr) >> 24) == 127;
  in6_addr v6{};
  return inet_pton(AF_INET6, host.c_str(), &v6) == 1 && IN6_IS_ADDR_LOOPBACK(&v6);
}

bool IsClearTextToNetwork(const std::string& url) {
  const std::optional<SchemeHost> parsed = Parse(url);
  return parsed && parsed->scheme == "http" && !IsLoopbackHost(parsed->host);
}

Status CheckCentreAddress(const std::string& url, bool insecure_http) {
  const std::optional<SchemeHost> parsed = Parse(url);
  if (!parsed || (parsed->scheme != "http" && parsed->scheme != "https") ||
      (url.rfind("http://", 0) != 0 && url.rfind("https://", 0) != 0)) {
    return MakeError(ErrorCode::kUsage, "--server : " + url + " n'est pas une adresse http:// ou https://");
  }
  if (parsed->scheme == "https" || insecure_http || IsLoopbackHost(parsed->host)) return OkStatus();
  return MakeError(ErrorCode::kUsage,
                   url +
                       " : le jeton de l'appareil et les dossiers passeraient en clair sur le réseau. Donnez "
                       "l'adresse du centre en https:// (https://" +
                       url.substr(7) +
                       ") ; seulement sur un réseau que vous savez sûr, ajoutez --insecure-http à relais init");
}

}  // namespace relais::client
