// The address of a centre, as `relais init --server` takes it, and the rule that keeps a device's
// token and its pulled pages off the network in clear: http:// only to this machine (loopback),
// unless the counsellor says otherwise (`--insecure-http`). The host is read by libcurl's own URL
// parser, so that the host checked is the one libcurl would connect to. Never resolves a name and
// never connects.
#pragma once

#include <string>

#include "base/result.h"

namespace relais::client {

// True for `localhost`, an IPv4 address in 127.0.0.0/8 and the IPv6 loopback `::1` (bracketed or
// not); case-insensitive. Anything else, `0.0.0.0` and names that resolve to loopback included, is
// not loopback.
bool IsLoopbackHost(std::string host);

// OkStatus for an https:// address, an http:// one whose host is loopback, or any http:// one when
// `insecure_http`. Otherwise a kUsage error in French that names the address and https://: one that
// is not http:// or https:// at all, or that libcurl cannot parse, or that would travel in clear.
Status CheckCentreAddress(const std::string& url, bool insecure_http);

// Whether `url` is an http:// address to a host that is not loopback: what `--insecure-http` allows.
bool IsClearTextToNetwork(const std::string& url);

}  // namespace relais::client
