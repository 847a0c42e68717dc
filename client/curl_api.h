// libcurl, loaded the first time a command talks to the centre (dlopen), not when `relais`
// starts. Linked directly, libcurl and its dependencies (GnuTLS, Kerberos, LDAP, nghttp2, libssh2…:
// 27 of the program's 38 libraries) were mapped and relocated by every command, a `visit add` or
// an `agenda` that never reach the network included: about 25 ms of CPU per command on the
// project's loaded two-core machine, as much as `curl --version` costs there (bench/RESULTS.md,
// "Register of visits and agenda"). Only init, sync, verify and the commands that check a centre's
// address need it. Thread-safe.
#pragma once

#include <curl/curl.h>

#include "base/result.h"

namespace relais::client {

// The libcurl functions Relais calls, as the loaded library has them.
struct CurlApi {
  CURLcode (*global_init)(long flags);
  CURL* (*easy_init)();
  void (*easy_cleanup)(CURL* handle);
  void (*easy_reset)(CURL* handle);
  CURLcode (*easy_setopt)(CURL* handle, CURLoption option, ...);
  CURLcode (*easy_perform)(CURL* handle);
  CURLcode (*easy_getinfo)(CURL* handle, CURLINFO info, ...);
  const char* (*easy_strerror)(CURLcode code);
  curl_slist* (*slist_append)(curl_slist* list, const char* text);
  void (*slist_free_all)(curl_slist* list);
  CURLU* (*url)();
  void (*url_cleanup)(CURLU* handle);
  CURLUcode (*url_set)(CURLU* handle, CURLUPart part, const char* content, unsigned int flags);
  CURLUcode (*url_get)(const CURLU* handle, CURLUPart part, char** content, unsigned int flags);
  void (*free)(void* p);
};

// libcurl (libcurl.so.4), loaded and globally initialised once, then kept for the process's life.
// kIo naming the library and dlopen's reason when it cannot be loaded or lacks a function; the
// same error on every later call.
Result<const CurlApi*> Curl();

}  // namespace relais::client
