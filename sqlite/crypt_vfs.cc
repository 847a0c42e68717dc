#include "sqlite/crypt_vfs.h"

#include <fcntl.h>
#include <sodium.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <map>
#include <mutex>

#include "sqlite/db.h"

namespace relais::sqlite::crypt {

namespace {

constexpr char kMagic[16] = {'R', 'e', 'l', 'a', 'i', 's', 'E', 'n', 'c', 'r', 'y', 'p', 't', 'e', 'd', '\0'};
constexpr uint32_t kFormatVersion = 1;
// Bytes [0, kFixedSize) of the envelope are written once, at creation, and bound to each slot.
constexpr size_t kFixedSize = 64;
// Each slot sits in a 512-byte sector of its own, so that rewriting one cannot tear the other.
constexpr size_t kSlotOffset[2] = {512, 1024};
constexpr size_t kSlotSize = 16 + 8 + 8 + 24 + kKeyBytes + 16;
constexpr size_t kNonceBytes = crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;
constexpr size_t kTagBytes = crypto_aead_xchacha20poly1305_ietf_ABYTES;
static_assert(kNonceBytes + kTagBytes == kReserveBytes);
// SQLite's WAL: a 32-byte header, then frames of a 24-byte header and a page.
constexpr int64_t kWalHeader = 32;
constexpr int64_t kFrameHeader = 24;

void PutU32(unsigned char* p, uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<unsigned char>(v >> (8 * i));
}
void PutU64(unsigned char* p, uint64_t v) {
  for (int i = 0; i < 8; ++i) p[i] = static_cast<unsigned char>(v >> (8 * i));
}
uint32_t GetU32(const unsigned char* p) {
  uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}
uint64_t GetU64(const unsigned char* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}
uint32_t GetBigEndianU32(const unsigned char* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | uint32_t{p[3]};
}

void EncodeFixed(const Envelope& e, unsigned char* out) {
  std::memcpy(out, kMagic, sizeof kMagic);
  PutU32(out + 16, kFormatVersion);
  PutU32(out + 20, e.page_size);
  PutU32(out + 24, e.reserve);
  std::memcpy(out + 32, e.replica_id.data(), kIdBytes);
}

void EncodeSlot(const KeySlot& s, unsigned char* out) {
  std::memcpy(out, s.salt.data(), s.salt.size());
  PutU64(out + 16, s.limits.opslimit);
  PutU64(out + 24, s.limits.memlimit);
  std::memcpy(out + 32, s.nonce.data(), s.nonce.size());
  std::memcpy(out + 56, s.wrapped.data(), s.wrapped.size());
}

// What the wrap of a slot authenticates besides the key: the fixed part of the envelope (so a slot
// cannot be moved to another replica's file) and the slot's own salt and limits.
std::array<unsigned char, kFixedSize + 32> WrapAssociatedData(const Envelope& e, const KeySlot& s) {
  std::array<unsigned char, kFixedSize + 32> ad{};
  EncodeFixed(e, ad.data());
  unsigned char slot[kSlotSize];
  EncodeSlot(s, slot);
  std::memcpy(ad.data() + kFixedSize, slot, 32);
  return ad;
}

// The key-encryption key: Argon2id of the passphrase. kInternal when memory is short.
Result<DataKey> DeriveKek(std::string_view passphrase, const KeySlot& slot) {
  DataKey kek{};
  if (crypto_pwhash(kek.data(), kek.size(), passphrase.data(), passphrase.size(), slot.salt.data(),
                    slot.limits.opslimit, static_cast<size_t>(slot.limits.memlimit),
                    crypto_pwhash_ALG_ARGON2ID13) != 0) {
    return MakeError(ErrorCode::kInternal,
                     "la dérivation de la clé depuis la phrase de passe a échoué (mémoire insuffisante : " +
                         std::to_string(slot.limits.memlimit >> 20) + " Mio demandés)");
  }
  return kek;
}

bool LimitsAreSane(const KdfLimits& l) {
  return l.opslimit >= crypto_pwhash_OPSLIMIT_MIN && l.opslimit <= 64 && l.memlimit >= crypto_pwhash_MEMLIMIT_MIN &&
         l.memlimit <= (uint64_t{4} << 30);
}

// ---- key registry --------------------------------------------------------------------------------

std::mutex& RegistryMutex() {
  static std::mutex m;
  return m;
}
std::map<ReplicaId, DataKey>& Registry() {
  static std::map<ReplicaId, DataKey> keys;
  return keys;
}
KeyProvider& Provider() {
  static KeyProvider provider;
  return provider;
}

std::optional<DataKey> FindKey(const Envelope& e) {
  {
    std::lock_guard<std::mutex> lock(RegistryMutex());
    auto it = Registry().find(e.replica_id);
    if (it != Registry().end()) return it->second;
  }
  if (Provider()) return Provider()(e);
  return std::nullopt;
}

// ---- the VFS -------------------------------------------------------------------------------------

// One open file. SQLite allocates szOsFile bytes for it: this struct, then the root VFS's file.
// Plain files forward every call; encrypted ones (a main database with the envelope, or the WAL of
// one) translate offsets and seal/open pages. Not thread-safe beyond what SQLite guarantees for one
// sqlite3_file (one call at a time).
struct CryptFile {
  sqlite3_file base;
  sqlite3_file* real;
  bool encrypted;
  bool wal;
  int page_size;
  DataKey key;
  unsigned char* scratch;     // page_size + kFrameHeader bytes, encrypted files only
  int64_t cached_header_off;  // the last WAL frame header written, and its page number
  uint32_t cached_header_page;
};
static_assert(sizeof(CryptFile) % 8 == 0);

sqlite3_vfs* Root(sqlite3_vfs* vfs) { return static_cast<sqlite3_vfs*>(vfs->pAppData); }
CryptFile* Crypt(sqlite3_file* f) { return reinterpret_cast<CryptFile*>(f); }
const sqlite3_io_methods* RealMethods(CryptFile* f) { return f->real->pMethods; }

int ReadMain(CryptFile* f, unsigned char* out, int amount, sqlite3_int64 offset) {
  const int64_t ps = f->page_size;
  bool short_read = false;
  for (int64_t page = offset / ps; page * ps < offset + amount; ++page) {
    int rc = RealMethods(f)->xRead(f->real, f->scratch, static_cast<int>(ps), kEnvelopeSize + page * ps);
    bool absent = false;
    if (rc == SQLITE_IOERR_SHORT_READ) {
      // Past the end of the file: zeros, as SQLite expects. A page cut in the middle is damage.
      absent = std::all_of(f->scratch, f->scratch + ps, [](unsigned char c) { return c == 0; });
      if (!absent) return SQLITE_IOERR_DATA;
      short_read = true;
    } else if (rc != SQLITE_OK) {
      return rc;
    }
    if (!absent && !OpenPage(f->key, static_cast<uint32_t>(page + 1), 'D', f->scratch, static_cast<size_t>(ps))) {
      return SQLITE_IOERR_DATA;
    }
    const int64_t from = std::max<int64_t>(offset, page * ps);
    const int64_t to = std::min<int64_t>(offset + amount, (page + 1) * ps);
    std::memcpy(out + (from - offset), f->scratch + (from - page * ps), static_cast<size_t>(to - from));
  }
  return short_read ? SQLITE_IOERR_SHORT_READ : SQLITE_OK;
}

int WriteMain(CryptFile* f, const unsigned char* data, int amount, sqlite3_int64 offset) {
  const int64_t ps = f->page_size;
  // SQLite writes the pages of a database file whole; anything else would leave a page unsealed.
  if (amount != ps || offset % ps != 0) return SQLITE_IOERR_WRITE;
  const auto page = static_cast<uint32_t>(offset / ps + 1);
  if (page == 1) {
    // The header must say what the envelope says, and leave room for nonce and tag: a page written
    // without its reserve would have its last 40 bytes of data overwritten.
    const uint32_t header_size = (uint32_t{data[16]} << 8) | data[17];
    if ((header_size == 1 ? 65536 : header_size) != static_cast<uint32_t>(ps) || data[20] < kReserveBytes) {
      return SQLITE_IOERR_WRITE;
    }
  }
  std::memcpy(f->scratch, data, static_cast<size_t>(ps));
  SealPage(f->key, page, 'D', f->scratch, static_cast<size_t>(ps));
  return RealMethods(f)->xWrite(f->real, f->scratch, static_cast<int>(ps), kEnvelopeSize + offset);
}

// The page number in the frame header at `header_offset` of the WAL.
int WalFramePage(CryptFile* f, int64_t header_offset, uint32_t* page) {
  if (f->cached_header_off == header_offset) {
    *page = f->cached_header_page;
    return SQLITE_OK;
  }
  unsigned char header[kFrameHeader];
  int rc = RealMethods(f)->xRead(f->real, header, kFrameHeader, header_offset);
  if (rc != SQLITE_OK) return rc;
  *page = GetBigEndianU32(header);
  return SQLITE_OK;
}

int ReadWal(CryptFile* f, unsigned char* out, int amount, sqlite3_int64 offset) {
  const int64_t ps = f->page_size;
  const int64_t frame = kFrameHeader + ps;
  int rc0 = RealMethods(f)->xRead(f->real, out, amount, offset);
  if (rc0 != SQLITE_OK && rc0 != SQLITE_IOERR_SHORT_READ) return rc0;
  const int64_t end = offset + amount;
  int64_t first = offset < kWalHeader ? 0 : (offset - kWalHeader) / frame;
  for (int64_t k = first;; ++k) {
    const int64_t header = kWalHeader + k * frame;
    const int64_t content = header + kFrameHeader;
    if (content >= end) break;
    if (content + ps <= offset) continue;
    if (content >= offset && content + ps <= end) {
      unsigned char* page = out + (content - offset);
      // Recovery reads whole frames (header and page) and keeps a frame only if its checksum
      // matches: a torn or stale frame at the end of the log is normal after a crash. Such a frame
      // gets random content here, which its checksum rejects, so the log ends before it. A page read
      // by itself belongs to a frame the log already trusts: if it does not open, it is damage.
      const bool whole_frame = header >= offset;
      if (rc0 == SQLITE_IOERR_SHORT_READ && std::all_of(page, page + ps, [](unsigned char c) { return c == 0; })) {
        continue;
      }
      uint32_t page_number = 0;
      if (whole_frame) {
        page_number = GetBigEndianU32(out + (header - offset));
      } else if (int rc = WalFramePage(f, header, &page_number); rc != SQLITE_OK) {
        return rc;
      }
      if (!OpenPage(f->key, page_number, 'W', page, static_cast<size_t>(ps))) {
        if (!whole_frame) return SQLITE_IOERR_DATA;
        randombytes_buf(page, static_cast<size_t>(ps));
      }
      continue;
    }
    // Part of a page: read its frame whole, open it, copy the part asked for.
    int rc = RealMethods(f)->xRead(f->real, f->scratch, static_cast<int>(frame), header);
    if (rc != SQLITE_OK) return rc == SQLITE_IOERR_SHORT_READ ? SQLITE_IOERR_DATA : rc;
    if (!OpenPage(f->key, GetBigEndianU32(f->scratch), 'W', f->scratch + kFrameHeader, static_cast<size_t>(ps))) {
      return SQLITE_IOERR_DATA;
    }
    const int64_t from = std::max<int64_t>(offset, content);
    const int64_t to = std::min<int64_t>(end, content + ps);
    std::memcpy(out + (from - offset), f->scratch + kFrameHeader + (from - content), static_cast<size_t>(to - from));
  }
  return rc0;
}

int WriteWal(CryptFile* f, const unsigned char* data, int amount, sqlite3_int64 offset) {
  const int64_t ps = f->page_size;
  const int64_t frame = kFrameHeader + ps;
  if (offset >= kWalHeader) {
    const int64_t within = (offset - kWalHeader) % frame;
    if (within == kFrameHeader && amount == ps) {
      uint32_t page_number = 0;
      if (int rc = WalFramePage(f, offset - kFrameHeader, &page_number); rc != SQLITE_OK) return rc;
      std::memcpy(f->scratch, data, static_cast<size_t>(ps));
      SealPage(f->key, page_number, 'W', f->scratch, static_cast<size_t>(ps));
      return RealMethods(f)->xWrite(f->real, f->scratch, amount, offset);
    }
    // A frame header (or part of one): clear, as SQLite wrote it. Anything reaching into a page
    // would leave plaintext on disk.
    if (within + amount > kFrameHeader) return SQLITE_IOERR_WRITE;
    if (within == 0 && amount == kFrameHeader) {
      f->cached_header_off = offset;
      f->cached_header_page = GetBigEndianU32(data);
    }
  } else if (offset + amount > kWalHeader + kFrameHeader) {
    return SQLITE_IOERR_WRITE;
  }
  return RealMethods(f)->xWrite(f->real, data, amount, offset);
}

int XClose(sqlite3_file* file) {
  CryptFile* f = Crypt(file);
  int rc = RealMethods(f)->xClose(f->real);
  sodium_memzero(f->key.data(), f->key.size());
  sqlite3_free(f->scratch);
  f->scratch = nullptr;
  return rc;
}

int XRead(sqlite3_file* file, void* out, int amount, sqlite3_int64 offset) {
  CryptFile* f = Crypt(file);
  if (!f->encrypted) return RealMethods(f)->xRead(f->real, out, amount, offset);
  auto* bytes = static_cast<unsigned char*>(out);
  return f->wal ? ReadWal(f, bytes, amount, offset) : ReadMain(f, bytes, amount, offset);
}

int XWrite(sqlite3_file* file, const void* data, int amount, sqlite3_int64 offset) {
  CryptFile* f = Crypt(file);
  if (!f->encrypted) return RealMethods(f)->xWrite(f->real, data, amount, offset);
  const auto* bytes = static_cast<const unsigned char*>(data);
  return f->wal ? WriteWal(f, bytes, amount, offset) : WriteMain(f, bytes, amount, offset);
}

int64_t Shift(CryptFile* f) { return f->encrypted && !f->wal ? kEnvelopeSize : 0; }

int XTruncate(sqlite3_file* file, sqlite3_int64 size) {
  CryptFile* f = Crypt(file);
  return RealMethods(f)->xTruncate(f->real, size + Shift(f));
}

int XSync(sqlite3_file* file, int flags) { return RealMethods(Crypt(file))->xSync(Crypt(file)->real, flags); }

int XFileSize(sqlite3_file* file, sqlite3_int64* size) {
  CryptFile* f = Crypt(file);
  int rc = RealMethods(f)->xFileSize(f->real, size);
  if (rc == SQLITE_OK) *size = std::max<sqlite3_int64>(0, *size - Shift(f));
  return rc;
}

int XLock(sqlite3_file* file, int level) { return RealMethods(Crypt(file))->xLock(Crypt(file)->real, level); }
int XUnlock(sqlite3_file* file, int level) { return RealMethods(Crypt(file))->xUnlock(Crypt(file)->real, level); }
int XCheckReservedLock(sqlite3_file* file, int* out) {
  return RealMethods(Crypt(file))->xCheckReservedLock(Crypt(file)->real, out);
}

int XFileControl(sqlite3_file* file, int op, void* arg) {
  CryptFile* f = Crypt(file);
  if (f->encrypted) {
    if (op == SQLITE_FCNTL_SIZE_HINT) {
      sqlite3_int64 size = *static_cast<sqlite3_int64*>(arg) + Shift(f);
      return RealMethods(f)->xFileControl(f->real, op, &size);
    }
    // Memory-mapped reads would hand SQLite the sealed bytes: never for an encrypted file.
    if (op == SQLITE_FCNTL_MMAP_SIZE) {
      *static_cast<sqlite3_int64*>(arg) = 0;
      return SQLITE_OK;
    }
  }
  return RealMethods(f)->xFileControl(f->real, op, arg);
}

int XSectorSize(sqlite3_file* file) { return RealMethods(Crypt(file))->xSectorSize(Crypt(file)->real); }
int XDeviceCharacteristics(sqlite3_file* file) {
  return RealMethods(Crypt(file))->xDeviceCharacteristics(Crypt(file)->real);
}
int XShmMap(sqlite3_file* file, int region, int size, int extend, void volatile** out) {
  return RealMethods(Crypt(file))->xShmMap(Crypt(file)->real, region, size, extend, out);
}
int XShmLock(sqlite3_file* file, int offset, int n, int flags) {
  return RealMethods(Crypt(file))->xShmLock(Crypt(file)->real, offset, n, flags);
}
void XShmBarrier(sqlite3_file* file) { RealMethods(Crypt(file))->xShmBarrier(Crypt(file)->real); }
int XShmUnmap(sqlite3_file* file, int delete_flag) {
  return RealMethods(Crypt(file))->xShmUnmap(Crypt(file)->real, delete_flag);
}
int XFetch(sqlite3_file* file, sqlite3_int64 offset, int amount, void** out) {
  CryptFile* f = Crypt(file);
  if (f->encrypted) {
    *out = nullptr;
    return SQLITE_OK;
  }
  return RealMethods(f)->xFetch(f->real, offset, amount, out);
}
int XUnfetch(sqlite3_file* file, sqlite3_int64 offset, void* page) {
  CryptFile* f = Crypt(file);
  if (f->encrypted) return SQLITE_OK;
  return RealMethods(f)->xUnfetch(f->real, offset, page);
}

const sqlite3_io_methods kMethods = {3,         XClose,      XRead,          XWrite,        XTruncate,
                                     XSync,     XFileSize,   XLock,          XUnlock,       XCheckReservedLock,
                                     XFileControl, XSectorSize, XDeviceCharacteristics, XShmMap, XShmLock,
                                     XShmBarrier,  XShmUnmap,   XFetch,         XUnfetch};

// Reads the envelope of a main database SQLite is opening: nullopt when it has none.
std::optional<Envelope> EnvelopeOf(sqlite3_file* real) {
  std::string bytes(kEnvelopeSize, '\0');
  int rc = real->pMethods->xRead(real, bytes.data(), kEnvelopeSize, 0);
  if (rc != SQLITE_OK) return std::nullopt;
  return DecodeEnvelope(bytes);
}

int XOpen(sqlite3_vfs* vfs, const char* name, sqlite3_file* file, int flags, int* out_flags) {
  CryptFile* f = Crypt(file);
  std::memset(static_cast<void*>(f), 0, sizeof(CryptFile));
  f->real = reinterpret_cast<sqlite3_file*>(f + 1);
  f->cached_header_off = -1;
  sqlite3_vfs* root = Root(vfs);
  int rc = root->xOpen(root, name, f->real, flags, out_flags);
  if (rc != SQLITE_OK) {
    file->pMethods = nullptr;
    return rc;
  }
  auto fail = [&](int code) {
    f->real->pMethods->xClose(f->real);
    sodium_memzero(f->key.data(), f->key.size());
    file->pMethods = nullptr;
    return code;
  };
  if ((flags & SQLITE_OPEN_MAIN_DB) != 0) {
    sqlite3_int64 size = 0;
    if (f->real->pMethods->xFileSize(f->real, &size) == SQLITE_OK && size >= 16) {
      std::string magic(16, '\0');
      if (f->real->pMethods->xRead(f->real, magic.data(), 16, 0) == SQLITE_OK && HasMagic(magic)) {
        auto envelope = EnvelopeOf(f->real);
        if (!envelope) return fail(SQLITE_CORRUPT);
        auto key = FindKey(*envelope);
        if (!key) return fail(SQLITE_AUTH);
        f->encrypted = true;
        f->page_size = static_cast<int>(envelope->page_size);
        f->key = *key;
      }
    }
  } else if ((flags & SQLITE_OPEN_WAL) != 0 && name != nullptr) {
    sqlite3_file* main = sqlite3_database_file_object(name);
    if (main != nullptr && main->pMethods == &kMethods && Crypt(main)->encrypted) {
      f->encrypted = true;
      f->wal = true;
      f->page_size = Crypt(main)->page_size;
      f->key = Crypt(main)->key;
    }
  }
  if (f->encrypted) {
    f->scratch = static_cast<unsigned char*>(sqlite3_malloc(f->page_size + static_cast<int>(kFrameHeader)));
    if (f->scratch == nullptr) return fail(SQLITE_NOMEM);
  }
  file->pMethods = &kMethods;
  return SQLITE_OK;
}

int XDelete(sqlite3_vfs* vfs, const char* name, int sync_dir) { return Root(vfs)->xDelete(Root(vfs), name, sync_dir); }
int XAccess(sqlite3_vfs* vfs, const char* name, int flags, int* out) {
  return Root(vfs)->xAccess(Root(vfs), name, flags, out);
}
int XFullPathname(sqlite3_vfs* vfs, const char* name, int n, char* out) {
  return Root(vfs)->xFullPathname(Root(vfs), name, n, out);
}
void* XDlOpen(sqlite3_vfs* vfs, const char* name) { return Root(vfs)->xDlOpen(Root(vfs), name); }
void XDlError(sqlite3_vfs* vfs, int n, char* out) { Root(vfs)->xDlError(Root(vfs), n, out); }
void (*XDlSym(sqlite3_vfs* vfs, void* handle, const char* symbol))() {
  return Root(vfs)->xDlSym(Root(vfs), handle, symbol);
}
void XDlClose(sqlite3_vfs* vfs, void* handle) { Root(vfs)->xDlClose(Root(vfs), handle); }
int XRandomness(sqlite3_vfs* vfs, int n, char* out) { return Root(vfs)->xRandomness(Root(vfs), n, out); }
int XSleep(sqlite3_vfs* vfs, int micros) { return Root(vfs)->xSleep(Root(vfs), micros); }
int XCurrentTime(sqlite3_vfs* vfs, double* out) { return Root(vfs)->xCurrentTime(Root(vfs), out); }
int XGetLastError(sqlite3_vfs* vfs, int n, char* out) { return Root(vfs)->xGetLastError(Root(vfs), n, out); }
int XCurrentTimeInt64(sqlite3_vfs* vfs, sqlite3_int64* out) { return Root(vfs)->xCurrentTimeInt64(Root(vfs), out); }

Status SyncFile(int fd, const std::string& path) {
  if (::fsync(fd) != 0) {
    return MakeError(ErrorCode::kIo, "impossible d'écrire sur le disque " + path + " : " + std::strerror(errno));
  }
  return OkStatus();
}

Status WriteAt(int fd, const std::string& path, const unsigned char* data, size_t size, off_t offset) {
  ssize_t n = ::pwrite(fd, data, size, offset);
  if (n != static_cast<ssize_t>(size)) {
    return MakeError(ErrorCode::kIo, "impossible d'écrire " + path + " : " + std::strerror(errno));
  }
  return SyncFile(fd, path);
}

}  // namespace

KdfLimits DefaultKdfLimits() { return {crypto_pwhash_OPSLIMIT_MODERATE, crypto_pwhash_MEMLIMIT_MODERATE}; }
KdfLimits WeakKdfLimits() { return {crypto_pwhash_OPSLIMIT_MIN, crypto_pwhash_MEMLIMIT_MIN}; }

bool HasMagic(std::string_view bytes) {
  return bytes.size() >= sizeof kMagic && std::memcmp(bytes.data(), kMagic, sizeof kMagic) == 0;
}

std::string EncodeEnvelope(const Envelope& envelope) {
  std::string out(kEnvelopeSize, '\0');
  auto* p = reinterpret_cast<unsigned char*>(out.data());
  EncodeFixed(envelope, p);
  for (size_t i = 0; i < 2; ++i) EncodeSlot(envelope.slots[i], p + kSlotOffset[i]);
  return out;
}

std::optional<Envelope> DecodeEnvelope(std::string_view bytes) {
  if (bytes.size() < kEnvelopeSize || !HasMagic(bytes)) return std::nullopt;
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  if (GetU32(p + 16) != kFormatVersion) return std::nullopt;
  Envelope e;
  e.page_size = GetU32(p + 20);
  e.reserve = GetU32(p + 24);
  if (e.page_size < 512 || e.page_size > 65536 || (e.page_size & (e.page_size - 1)) != 0) return std::nullopt;
  if (e.reserve != kReserveBytes) return std::nullopt;
  std::memcpy(e.replica_id.data(), p + 32, kIdBytes);
  for (size_t i = 0; i < 2; ++i) {
    const unsigned char* s = p + kSlotOffset[i];
    KeySlot& slot = e.slots[i];
    std::memcpy(slot.salt.data(), s, slot.salt.size());
    slot.limits.opslimit = GetU64(s + 16);
    slot.limits.memlimit = GetU64(s + 24);
    std::memcpy(slot.nonce.data(), s + 32, slot.nonce.size());
    std::memcpy(slot.wrapped.data(), s + 56, slot.wrapped.size());
  }
  return e;
}

Result<std::optional<Envelope>> ReadEnvelope(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return std::optional<Envelope>();
    return MakeError(ErrorCode::kIo, "impossible de lire " + path + " : " + std::strerror(errno));
  }
  std::string bytes(kEnvelopeSize, '\0');
  ssize_t n = ::pread(fd, bytes.data(), bytes.size(), 0);
  ::close(fd);
  if (n < 0) return MakeError(ErrorCode::kIo, "impossible de lire " + path + " : " + std::strerror(errno));
  bytes.resize(static_cast<size_t>(n));
  if (!HasMagic(bytes)) return std::optional<Envelope>();
  auto envelope = DecodeEnvelope(bytes);
  if (!envelope) {
    return MakeError(ErrorCode::kIo, "la base locale " + path +
                                         " est endommagée : son en-tête de chiffrement est illisible. Rien n'a été "
                                         "modifié ; gardez une copie de ce fichier et signalez-le au support.");
  }
  return std::optional<Envelope>(*envelope);
}

Result<KeySlot> WrapKey(const DataKey& key, const Envelope& envelope, std::string_view passphrase, KdfLimits limits) {
  if (sodium_init() < 0) return MakeError(ErrorCode::kInternal, "libsodium ne s'initialise pas");
  KeySlot slot;
  slot.limits = limits;
  randombytes_buf(slot.salt.data(), slot.salt.size());
  randombytes_buf(slot.nonce.data(), slot.nonce.size());
  auto kek = DeriveKek(passphrase, slot);
  if (!kek) return kek.error();
  const auto ad = WrapAssociatedData(envelope, slot);
  unsigned long long length = 0;
  crypto_aead_xchacha20poly1305_ietf_encrypt(slot.wrapped.data(), &length, key.data(), key.size(), ad.data(),
                                             ad.size(), nullptr, slot.nonce.data(), kek->data());
  sodium_memzero(kek->data(), kek->size());
  return slot;
}

Result<NewKey> MakeNewKey(std::string_view passphrase, KdfLimits limits, uint32_t page_size) {
  if (sodium_init() < 0) return MakeError(ErrorCode::kInternal, "libsodium ne s'initialise pas");
  NewKey made;
  made.envelope.page_size = page_size;
  randombytes_buf(made.key.data(), made.key.size());
  randombytes_buf(made.envelope.replica_id.data(), made.envelope.replica_id.size());
  auto slot = WrapKey(made.key, made.envelope, passphrase, limits);
  if (!slot) return slot.error();
  made.envelope.slots = {*slot, *slot};
  return made;
}

Result<std::optional<DataKey>> UnwrapKey(const Envelope& envelope, std::string_view passphrase) {
  if (sodium_init() < 0) return MakeError(ErrorCode::kInternal, "libsodium ne s'initialise pas");
  for (size_t i = 0; i < envelope.slots.size(); ++i) {
    const KeySlot& slot = envelope.slots[i];
    // Both slots are the same but during a passphrase change: one derivation then.
    if (i == 1 && std::memcmp(&slot, &envelope.slots[0], sizeof slot) == 0) break;
    if (!LimitsAreSane(slot.limits)) continue;
    auto kek = DeriveKek(passphrase, slot);
    if (!kek) return kek.error();
    const auto ad = WrapAssociatedData(envelope, slot);
    DataKey key{};
    unsigned long long length = 0;
    int rc = crypto_aead_xchacha20poly1305_ietf_decrypt(key.data(), &length, nullptr, slot.wrapped.data(),
                                                        slot.wrapped.size(), ad.data(), ad.size(), slot.nonce.data(),
                                                        kek->data());
    sodium_memzero(kek->data(), kek->size());
    if (rc == 0 && length == key.size()) return std::optional<DataKey>(key);
  }
  return std::optional<DataKey>();
}

Status WriteNewFile(const std::string& path, const Envelope& envelope) {
  RELAIS_TRY(CreatePrivateFile(path));
  int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
  if (fd < 0) return MakeError(ErrorCode::kIo, "impossible d'ouvrir " + path + " : " + std::strerror(errno));
  struct stat st {};
  if (::fstat(fd, &st) != 0 || st.st_size != 0) {
    ::close(fd);
    return MakeError(ErrorCode::kIo, "le fichier " + path + " n'est pas vide : il n'est pas remplacé");
  }
  const std::string bytes = EncodeEnvelope(envelope);
  Status written =
      WriteAt(fd, path, reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(), 0);
  ::close(fd);
  return written;
}

Status RewriteSlots(const std::string& path, const Envelope& envelope) {
  int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
  if (fd < 0) return MakeError(ErrorCode::kIo, "impossible d'ouvrir " + path + " : " + std::strerror(errno));
  const std::string bytes = EncodeEnvelope(envelope);
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  Status written = WriteAt(fd, path, p + kSlotOffset[1], kSlotSize, static_cast<off_t>(kSlotOffset[1]));
  if (written.ok()) written = WriteAt(fd, path, p + kSlotOffset[0], kSlotSize, static_cast<off_t>(kSlotOffset[0]));
  ::close(fd);
  return written;
}

void RegisterKey(const ReplicaId& id, const DataKey& key) {
  std::lock_guard<std::mutex> lock(RegistryMutex());
  Registry()[id] = key;
}

void ForgetKey(const ReplicaId& id) {
  std::lock_guard<std::mutex> lock(RegistryMutex());
  auto it = Registry().find(id);
  if (it == Registry().end()) return;
  sodium_memzero(it->second.data(), it->second.size());
  Registry().erase(it);
}

void SetKeyProvider(KeyProvider provider) { Provider() = std::move(provider); }

Status RegisterVfs(bool make_default) {
  static sqlite3_vfs vfs{};
  static int registered = [] {
    ConfigureSqliteOnce();  // before sqlite3_vfs_find initialises SQLite
    if (sodium_init() < 0) return SQLITE_ERROR;
    sqlite3_vfs* root = sqlite3_vfs_find(nullptr);
    if (root == nullptr) return SQLITE_ERROR;
    vfs.iVersion = std::min(root->iVersion, 3);
    vfs.szOsFile = static_cast<int>(sizeof(CryptFile)) + root->szOsFile;
    vfs.mxPathname = root->mxPathname;
    vfs.zName = kVfsName;
    vfs.pAppData = root;
    vfs.xOpen = XOpen;
    vfs.xDelete = XDelete;
    vfs.xAccess = XAccess;
    vfs.xFullPathname = XFullPathname;
    vfs.xDlOpen = XDlOpen;
    vfs.xDlError = XDlError;
    vfs.xDlSym = XDlSym;
    vfs.xDlClose = XDlClose;
    vfs.xRandomness = XRandomness;
    vfs.xSleep = XSleep;
    vfs.xCurrentTime = XCurrentTime;
    vfs.xGetLastError = XGetLastError;
    vfs.xCurrentTimeInt64 = XCurrentTimeInt64;
    return sqlite3_vfs_register(&vfs, 0);
  }();
  if (registered != SQLITE_OK) {
    return MakeError(ErrorCode::kInternal, std::string("le chiffrement de la base ne s'installe pas : ") +
                                               sqlite3_errstr(registered));
  }
  if (make_default && sqlite3_vfs_register(&vfs, 1) != SQLITE_OK) {
    return MakeError(ErrorCode::kInternal, "le chiffrement de la base ne s'installe pas par défaut");
  }
  return OkStatus();
}

void SealPage(const DataKey& key, uint32_t page_number, char kind, unsigned char* page, size_t size) {
  const size_t text = size - kReserveBytes;
  unsigned char* nonce = page + text;
  unsigned char* tag = nonce + kNonceBytes;
  const unsigned char ad[8] = {'R', 'p', static_cast<unsigned char>(kind), 1,
                               static_cast<unsigned char>(page_number), static_cast<unsigned char>(page_number >> 8),
                               static_cast<unsigned char>(page_number >> 16),
                               static_cast<unsigned char>(page_number >> 24)};
  randombytes_buf(nonce, kNonceBytes);
  unsigned long long tag_length = 0;
  crypto_aead_xchacha20poly1305_ietf_encrypt_detached(page, tag, &tag_length, page, text, ad, sizeof ad, nullptr,
                                                      nonce, key.data());
}

bool OpenPage(const DataKey& key, uint32_t page_number, char kind, unsigned char* page, size_t size) {
  if (size <= static_cast<size_t>(kReserveBytes)) return false;
  const size_t text = size - kReserveBytes;
  const unsigned char* nonce = page + text;
  const unsigned char* tag = nonce + kNonceBytes;
  const unsigned char ad[8] = {'R', 'p', static_cast<unsigned char>(kind), 1,
                               static_cast<unsigned char>(page_number), static_cast<unsigned char>(page_number >> 8),
                               static_cast<unsigned char>(page_number >> 16),
                               static_cast<unsigned char>(page_number >> 24)};
  if (crypto_aead_xchacha20poly1305_ietf_decrypt_detached(page, nullptr, page, text, tag, ad, sizeof ad, nonce,
                                                          key.data()) != 0) {
    return false;
  }
  std::memset(page + text, 0, kReserveBytes);
  return true;
}

}  // namespace relais::sqlite::crypt
