#include "client/curl_api.h"

#include <dlfcn.h>

#include <string>
#include <type_traits>

namespace relais::client {

namespace {

constexpr char kLibrary[] = "libcurl.so.4";

Result<const CurlApi*> Load() {
  // Never closed: libcurl's global state and its handles live until the process exits.
  void* library = dlopen(kLibrary, RTLD_NOW | RTLD_LOCAL);
  if (!library) {
    const char* why = dlerror();
    return MakeError(ErrorCode::kIo, std::string("impossible de charger ") + kLibrary +
                                         " (paquet libcurl4) : " + (why ? why : "raison inconnue"));
  }
  static CurlApi api;
  std::string missing;
  auto bind = [&](auto& slot, const char* name) {
    void* symbol = dlsym(library, name);
    if (!symbol) missing += (missing.empty() ? "" : ", ") + std::string(name);
    slot = reinterpret_cast<std::remove_reference_t<decltype(slot)>>(symbol);
  };
  bind(api.global_init, "curl_global_init");
  bind(api.easy_init, "curl_easy_init");
  bind(api.easy_cleanup, "curl_easy_cleanup");
  bind(api.easy_reset, "curl_easy_reset");
  bind(api.easy_setopt, "curl_easy_setopt");
  bind(api.easy_perform, "curl_easy_perform");
  bind(api.easy_getinfo, "curl_easy_getinfo");
  bind(api.easy_strerror, "curl_easy_strerror");
  bind(api.slist_append, "curl_slist_append");
  bind(api.slist_free_all, "curl_slist_free_all");
  bind(api.url, "curl_url");
  bind(api.url_cleanup, "curl_url_cleanup");
  bind(api.url_set, "curl_url_set");
  bind(api.url_get, "curl_url_get");
  bind(api.free, "curl_free");
  if (!missing.empty()) {
    return MakeError(ErrorCode::kIo, std::string(kLibrary) + " est trop ancienne : il lui manque " + missing);
  }
  if (api.global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
    return MakeError(ErrorCode::kIo, std::string(kLibrary) + " n'a pas pu s'initialiser");
  }
  return &api;
}

}  // namespace

Result<const CurlApi*> Curl() {
  // A function-local static: loaded once, whichever thread asks first.
  static const Result<const CurlApi*> kLoaded = Load();
  return kLoaded;
}

}  // namespace relais::client
