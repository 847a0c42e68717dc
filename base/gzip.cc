#include "base/gzip.h"

#include <zlib.h>

#include <exception>
#include <memory>
#include <thread>

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

namespace {

// Raw deflate (no header) of `data` appended to `out`, with `dictionary` as the window before it.
// `last`: the stream's final block; otherwise it ends with a sync flush, on a byte boundary.
void DeflateRaw(std::string_view data, std::string_view dictionary, int level, bool last, std::string& out) {
  std::unique_ptr<z_stream, DeflateEnd> z(new z_stream{});
  if (deflateInit2(z.get(), level, Z_DEFLATED, -15, 9, Z_DEFAULT_STRATEGY) != Z_OK) {
    z.release();
    throw std::bad_alloc();
  }
  if (!dictionary.empty()) {
    deflateSetDictionary(z.get(), reinterpret_cast<const Bytef*>(dictionary.data()), static_cast<uInt>(dictionary.size()));
  }
  const size_t start = out.size();
  out.resize(start + deflateBound(z.get(), data.size()) + 16);
  z->next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z->avail_in = static_cast<uInt>(data.size());
  z->next_out = reinterpret_cast<Bytef*>(out.data() + start);
  z->avail_out = static_cast<uInt>(out.size() - start);
  deflate(z.get(), last ? Z_FINISH : Z_SYNC_FLUSH);
  out.resize(start + z->total_out);
}

void AppendLittleEndian32(std::string& out, uLong value) {
  for (int i = 0; i < 4; ++i) out += static_cast<char>((value >> (8 * i)) & 0xFF);
}

}  // namespace

std::string GzipCompressInTwo(std::string_view data, int level) {
  constexpr size_t kWindow = 32 * 1024;
  if (data.size() < 256 * 1024) return GzipCompress(data, level);
  const std::string_view first = data.substr(0, data.size() / 2);
  const std::string_view second = data.substr(first.size());
  std::string head_part;
  uLong first_crc = 0;
  std::exception_ptr failed;  // an exception may not leave a thread: it is rethrown after the join
  std::thread other([&] {
    try {
      DeflateRaw(first, {}, level, false, head_part);
      first_crc = crc32(0L, reinterpret_cast<const Bytef*>(first.data()), static_cast<uInt>(first.size()));
    } catch (...) {
      failed = std::current_exception();
    }
  });
  std::string tail_part;
  try {
    DeflateRaw(second, first.substr(first.size() - kWindow), level, true, tail_part);
  } catch (...) {
    other.join();
    throw;
  }
  const uLong second_crc = crc32(0L, reinterpret_cast<const Bytef*>(second.data()), static_cast<uInt>(second.size()));
  other.join();
  if (failed) std::rethrow_exception(failed);
  // RFC 1952: magic, deflate, no flags, no time, XFL (2: smallest, at level 9), OS 3 (Unix) — what
  // zlib writes; then the deflate stream, its CRC-32 and the input's size modulo 2^32.
  std::string out = {'\x1f', '\x8b', '\x08', '\0', '\0', '\0', '\0', '\0', static_cast<char>(level == 9 ? 2 : 0), '\x03'};
  out.reserve(out.size() + head_part.size() + tail_part.size() + 8);
  out += head_part;
  out += tail_part;
  AppendLittleEndian32(out, crc32_combine(first_crc, second_crc, static_cast<z_off_t>(second.size())));
  AppendLittleEndian32(out, static_cast<uLong>(data.size() & 0xFFFFFFFFu));
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
