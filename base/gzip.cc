#include "base/gzip.h"

#include <zlib.h>

#include <memory>

namespace relais {

namespace {
struct DeflateEnd { void operator()(z_stream* z) const { deflateEnd(z); delete z; } };
struct InflateEnd { void operator()(z_stream* z) const { inflateEnd(z); delete z; } };
}  // namespace

std::string GzipCompress(std::string_view data, int level) {
  std::unique_ptr<z_stream, DeflateEnd> z(new z_stream{});
  // 15 window bits + 16 asks zlib for a gzip header and trailer.
  if (deflateInit2(z.get(), level, Z_DEFLATED, 15 + 16, 9, Z_DEFAULT_STRATEGY) != Z_OK) {
    z.release();
    throw std::bad_alloc();
  }
  std::string out;
  out.resize(deflateBound(z.get(), data.size()) + 32);
  z->next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z->avail_in = static_cast<uInt>(data.size());
  z->next_out = reinterpret_cast<Bytef*>(out.data());
  z->avail_out = static_cast<uInt>(out.size());
  deflate(z.get(), Z_FINISH);
  out.resize(z->total_out);
  return out;
}

Result<std::string> GzipDecompress(std::string_view data, size_t max_output) {
  std::unique_ptr<z_stream, InflateEnd> z(new z_stream{});
  // 15 + 32: detect gzip or zlib headers automatically.
  if (inflateInit2(z.get(), 15 + 32) != Z_OK) {
    z.release();
    return MakeError(ErrorCode::kInternal, "zlib could not start");
  }
  z->next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z->avail_in = static_cast<uInt>(data.size());
  std::string out;
  char chunk[64 * 1024];
  int rc = Z_OK;
  while (rc != Z_STREAM_END) {
    z->next_out = reinterpret_cast<Bytef*>(chunk);
    z->avail_out = sizeof chunk;
    rc = inflate(z.get(), Z_NO_FLUSH);
    if (rc != Z_OK && rc != Z_STREAM_END) {
      return MakeError(ErrorCode::kProtocol, "the body is not valid gzip");
    }
    size_t produced = sizeof chunk - z->avail_out;
    if (out.size() + produced > max_output) {
      return MakeError(ErrorCode::kTooLarge,
                       "the body inflates beyond the limit of " + std::to_string(max_output) + " bytes");
    }
    out.append(chunk, produced);
    if (rc == Z_OK && z->avail_in == 0 && produced == 0) {
      return MakeError(ErrorCode::kProtocol, "the gzip body is truncated");
    }
  }
  return out;
}

}  // namespace relais
