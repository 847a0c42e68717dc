#include "server/sql_store.h"

#include <algorithm>
#include <cstdio>

#include "base/ids.h"
#include "base/text.h"
#include "server/access_log.h"
#include "server/erasure.h"
#include "server/pull_page.h"
#include "server/retention.h"
#include "server/settle.h"
#include "server/store_layout.h"

namespace relais::server {

namespace {

// last_seen_at is kept to the minute: a device is not worth a write on every request.
constexpr int64_t kLastSeenResolutionMs = int64_t{60} * 1000;
// A token longer than this is refused before it is hashed.
constexpr size_t kMaxTokenSize = 256;

constexpr const char* kDeviceTerritories =
    "SELECT territory FROM device_territories WHERE device_id = ?1 ORDER BY territory COLLATE BINARY";
constexpr const char* kListDevices =
    "SELECT id, name, role, created_at, last_seen_at, revoked_at, wipe_ordered_at, wipe_delivered_at, "
    "pending_changes, pending_reported_at FROM devices ORDER BY name COLLATE BINARY";
// ?3 = 1 also orders the wipe; a wipe order is never taken back, and its first date stays.
constexpr const char* kRevokeDevice =
    "UPDATE devices SET revoked_at = COALESCE(revoked_at, ?1), wipe_ordered_at = CASE WHEN ?3 = 1 THEN "
    "COALESCE(wipe_ordered_at, ?1) ELSE wipe_ordered_at END WHERE name = ?2";
// Last seen, and the device's pending count when it reported one (?3, NULL when it did not).
constexpr const char* kTouchDevice =
    "UPDATE devices SET last_seen_at = ?1, pending_changes = COALESCE(CAST(?3 AS BIGINT), pending_changes), "
    "pending_reported_at = CASE WHEN CAST(?3 AS BIGINT) IS NULL THEN pending_reported_at ELSE ?1 END WHERE id = ?2";
constexpr const char* kWipeDelivered =
    "UPDATE devices SET wipe_delivered_at = COALESCE(wipe_delivered_at, ?1) WHERE id = ?2";
constexpr const char* kPulledTo = "UPDATE devices SET pulled_to = ?1 WHERE id = ?2 AND pulled_to < ?1";
constexpr const char* kDeviceNamed = "SELECT 1 FROM devices WHERE name = ?1";
// The device holding a token (bound with its SHA-256), one row per territory, in byte order.
constexpr const char* kDeviceByToken =
    "SELECT d.id, d.name, d.role, d.revoked_at, d.last_seen_at, t.territory, d.pulled_to, d.wipe_ordered_at, "
    "d.pending_changes FROM devices d "
    "LEFT JOIN device_territories t ON t.device_id = d.id WHERE d.token_hash = ?1 ORDER BY t.territory COLLATE BINARY";
constexpr const char* kInsertDevice =
    "INSERT INTO devices(name, role, token_hash, created_at) VALUES (?1, ?2, ?3, ?4) RETURNING id";
constexpr const char* kReadIdentity = "SELECT store_id, epoch, epoch_seq, epoch_at, last_seq FROM meta WHERE id = 1";
constexpr const char* kBeginEpoch = "UPDATE meta SET epoch = ?1, epoch_seq = ?2, epoch_at = ?3 WHERE id = 1";
// The version held is kept as a claim (lost_version) only when it is one the centre lost: an epoch
// after the first, a version beyond epoch_seq (docs/PROTOCOL.md, "Centre identity").
constexpr const char* kInsertRecovery =
    "INSERT INTO recoveries(at, device, epoch, tbl, record_id, op, lost_version) SELECT CAST(?1 AS TEXT), "
    "CAST(?2 AS TEXT), epoch, CAST(?3 AS TEXT), CAST(?4 AS TEXT), CAST(?5 AS TEXT), CASE WHEN epoch > 1 AND "
    "CAST(?6 AS BIGINT) > epoch_seq THEN CAST(?6 AS BIGINT) END FROM meta WHERE id = 1";
constexpr const char* kListRecoveries =
    "SELECT at, device, epoch, tbl, record_id, op, lost_version, used_seq FROM recoveries ORDER BY id DESC LIMIT ?1";
constexpr const char* kInsertDeviceTerritory =
    "INSERT INTO device_territories(device_id, territory) VALUES (?1, ?2) ON CONFLICT DO NOTHING";
// Enrolment declares a territory nobody declared yet, labelled with its code (docs/SERVER.md).
constexpr const char* kDeclareTerritory =
    "INSERT INTO territories(code, label, created_at) VALUES (?1, ?2, ?3) ON CONFLICT DO NOTHING";
constexpr const char* kTerritoryDeclared = "SELECT 1 FROM territories WHERE code = ?1";
constexpr const char* kInsertReceptionPoint = "INSERT INTO reception_points(territory, name) VALUES (?1, ?2)";
constexpr const char* kRenameTerritory = "UPDATE territories SET label = ?2 WHERE code = ?1";
constexpr const char* kAddReceptionPoint =
    "INSERT INTO reception_points(territory, name) VALUES (?1, ?2) ON CONFLICT DO NOTHING";
constexpr const char* kRemoveReceptionPoint = "DELETE FROM reception_points WHERE territory = ?1 AND name = ?2";
constexpr const char* kListTerritories = "SELECT code, label FROM territories ORDER BY code COLLATE BINARY";
constexpr const char* kListReceptionPoints =
    "SELECT territory, name FROM reception_points ORDER BY territory COLLATE BINARY, name COLLATE BINARY";
constexpr const char* kReadTransferPolicy = "SELECT value FROM network_settings WHERE name = 'transfers'";
constexpr const char* kWriteTransferPolicy =
    "INSERT INTO network_settings(name, value) VALUES ('transfers', ?1) ON CONFLICT (name) DO UPDATE SET value = ?1";

// A label or a reception point's name: one line of text, for people.
Status CheckLabel(const std::string& what, const std::string& text) {
  if (text.empty() || text.size() > 200 || !IsValidUtf8(text)) {
    return MakeError(ErrorCode::kValidation, what + " : attendu un texte d'une ligne, de 1 à 200 octets");
  }
  for (char c : text) {
    if (static_cast<unsigned char>(c) < 0x20)
      return MakeError(ErrorCode::kValidation, what + " : une seule ligne, sans caractère de contrôle");
  }
  return OkStatus();
}

// A reception point's name as a case's reception_point holds it (trimmed, in NFC), so that the
// two compare byte for byte (push.cc, CheckReceptionPoint).
std::string PointName(const std::string& given) {
  const schema::Field* field = schema::CasesTable().FindField("reception_point");
  return schema::Normalize(*field, given).value_or("");
}

Error UnknownTerritory(const std::string& code) {
  return MakeError(ErrorCode::kNotFound,
                   "aucun territoire déclaré sous le code " + code + " (voir `relais-central territory list`)");
}

// Conflicts by ConflictFilter, bound with (1) status, (2) record id, (3) territory, each NULL for
// any; (4) 1 to keep only the records of (5), a list of territories (and shared records); (6) limit.
std::string ConflictsSql(const SqlDialect& d) {
  return "SELECT * FROM (SELECT " + ConflictColumns() +
         " FROM conflicts c WHERE (CAST(?1 AS TEXT) IS NULL OR c.status = ?1) "
         "AND (CAST(?2 AS TEXT) IS NULL OR c.record_id = ?2)) AS q "
         "WHERE (CAST(?3 AS TEXT) IS NULL OR territory = ?3) AND (?4 = 0 OR territory IS NULL OR " +
         d.in_list("territory", 5) + ") ORDER BY id LIMIT ?6";
}

Error NoMetaRow() { return MakeError(ErrorCode::kInternal, "la base centrale n'a pas de ligne meta"); }

Result<CentreIdentity> ReadIdentity(SqlConn& conn) {
  auto identity = QueryOne(conn, kReadIdentity, {}, [](const SqlRow& r) {
    CentreIdentity c;
    c.store_id = r.Text(0);
    c.epoch = r.Int(1);
    c.epoch_seq = r.Int(2);
    if (!r.IsNull(3)) c.epoch_at = r.Text(3);
    c.seq = r.Int(4);
    return c;
  });
  if (!identity) return identity.error();
  if (!*identity) return NoMetaRow();
  return **identity;
}

Result<int64_t> LastSeq(SqlConn& conn) {
  auto seq = QueryOne(conn, sql::kReadSeq, {}, [](const SqlRow& r) { return r.Int(0); });
  if (!seq) return seq.error();
  if (!*seq) return NoMetaRow();
  return **seq;
}

// One ordered source of a pull page: the rows of one statement of PullQueriesFor().
// Column 0 of an exit or conflict row is its sequence number.
struct SqlPullSource {
  PullSourceKind kind = PullSourceKind::kRecords;
  const TableLayout* layout = nullptr;  // kRecords
  std::unique_ptr<SqlRows> rows;
  bool has_row = false;
  int64_t seq = 0;

  const SqlRow& row() const { return *rows; }
  Status Advance() {
    auto more = rows->Next();
    if (!more) return more.error();
    has_row = *more;
    if (has_row) seq = rows->Int(kind == PullSourceKind::kRecords ? layout->version_col : 0);
    return OkStatus();
  }
};

}  // namespace

// ---- health and devices -------------------------------------------------------------------------

Status SqlCentralStore::Health() {
  auto reader = Reader();
  if (!reader) return reader.error();
  auto seq = LastSeq(reader->conn());
  if (!seq) return seq.error();
  return OkStatus();
}

// ---- the centre's identity and its restores ------------------------------------------------------

Result<CentreIdentity> SqlCentralStore::Identity() {
  auto reader = Reader();
  if (!reader) return reader.error();
  return ReadIdentity(reader->conn());
}

Result<CentreIdentity> SqlCentralStore::BeginEpoch(std::optional<EpochEvidence> seen) {
  auto writer = Writer(/*wait=*/true);
  if (!writer) return writer.error();
  SqlConn& conn = (*writer)->conn();
  auto tx = SqlTransaction::Begin(conn, SqlTransaction::Kind::kWrite);
  if (!tx) return tx.error();
  auto identity = ReadIdentity(conn);
  if (!identity) return identity.error();
  if (seen && seen->epoch != identity->epoch) return *identity;  // begun already, on other evidence
  identity->epoch += 1;
  identity->epoch_seq = seen ? std::min(seen->seq, identity->seq) : identity->seq;
  identity->epoch_at = IsoTimestamp(clock_.NowMs());
  auto changed = conn.Run(kBeginEpoch, {identity->epoch, identity->epoch_seq, *identity->epoch_at});
  if (!changed) return changed.error();
  RELAIS_TRY(tx->Commit());
  return *identity;
}

Status SqlCentralStore::NoteRecovery(const Device& device, const std::vector<RecoveredRecord>& records) {
  auto writer = Writer(/*wait=*/true);
  if (!writer) return writer.error();
  SqlConn& conn = (*writer)->conn();
  auto tx = SqlTransaction::Begin(conn, SqlTransaction::Kind::kWrite);
  if (!tx) return tx.error();
  const std::string now = IsoTimestamp(clock_.NowMs());
  for (const RecoveredRecord& r : records) {
    auto added = conn.Run(kInsertRecovery, {now, device.name, r.table, r.record_id, r.op, r.version});
    if (!added) return added.error();
  }
  return tx->Commit();
}

Result<std::vector<RecoveryNote>> SqlCentralStore::Recoveries(size_t limit) {
  auto reader = Reader();
  if (!reader) return reader.error();
  return QueryAll(reader->conn(), kListRecoveries, {static_cast<int64_t>(limit)}, [](const SqlRow& r) {
    RecoveryNote n;
    n.at = r.Text(0);
    n.device = r.Text(1);
    n.epoch = r.Int(2);
    n.record = RecoveredRecord{r.Text(3), r.Text(4), r.Text(5), r.IsNull(6) ? 0 : r.Int(6)};
    if (!r.IsNull(7)) n.applied_seq = r.Int(7);
    return n;
  });
}

Result<std::string> SqlCentralStore::AddDevice(const std::string& name, const std::vector<std::string>& territories,
                                               Role role) {
  RELAIS_TRY(CheckEnrolment(name, territories));

  const std::string token = RandomHex(32);
  auto writer = Writer(/*wait=*/true);
  if (!writer) return writer.error();
  SqlConn& conn = (*writer)->conn();
  auto tx = SqlTransaction::Begin(conn, SqlTransaction::Kind::kWrite);
  if (!tx) return tx.error();
  auto taken = QueryOne(conn, kDeviceNamed, {name}, [](const SqlRow&) { return true; });
  if (!taken) return taken.error();
  if (*taken) return NameTaken(name);
  auto id = QueryOne(conn, kInsertDevice, {name, ToString(role), Sha256Hex(token), IsoTimestamp(clock_.NowMs())},
                     [](const SqlRow& r) { return r.Int(0); });
  if (!id) return id.error();
  if (!*id) return MakeError(ErrorCode::kInternal, "l'appareil " + name + " n'a pas reçu d'identifiant");
  for (const std::string& t : territories) {
    auto added = conn.Run(kInsertDeviceTerritory, {**id, t});
    if (!added) return added.error();
    auto declared = conn.Run(kDeclareTerritory, {t, t, IsoTimestamp(clock_.NowMs())});
    if (!declared) return declared.error();
  }
  RELAIS_TRY(tx->Commit());
  return token;
}

Result<std::vector<std::string>> SqlCentralStore::TerritoriesOf(SqlConn& conn, int64_t device_id) {
  return QueryAll(conn, kDeviceTerritories, {device_id}, [](const SqlRow& r) { return r.Text(0); });
}

Result<std::vector<DeviceInfo>> SqlCentralStore::ListDevices() {
  auto reader = Reader();
  if (!reader) return reader.error();
  SqlConn& conn = reader->conn();
  auto snapshot = SqlTransaction::Begin(conn, SqlTransaction::Kind::kSnapshot);
  if (!snapshot) return snapshot.error();
  auto devices =
      QueryAll(conn, kListDevices, {}, [](const SqlRow& r) { return std::make_pair(r.Int(0), ReadDeviceInfo(r)); });
  if (!devices) return devices.error();
  std::vector<DeviceInfo> out;
  for (auto& [id, device] : *devices) {
    auto territories = TerritoriesOf(conn, id);
    if (!territories) return territories.error();
    device.territories = std::move(*territories);
    out.push_back(std::move(device));
  }
  return out;
}

Status SqlCentralStore::RevokeDevice(const std::string& name, bool wipe) {
  auto writer = Writer(/*wait=*/true);
  if (!writer) return writer.error();
  auto changed = (*writer)->conn().Run(kRevokeDevice, {IsoTimestamp(clock_.NowMs()), name, int64_t{wipe ? 1 : 0}});
  if (!changed) return changed.error();
  if (*changed == 0) {
    return MakeError(ErrorCode::kNotFound, "aucun appareil nommé " + name + " (voir `relais-central device list`)");
  }
  return OkStatus();
}

Result<Device> SqlCentralStore::Authenticate(std::string_view token, const DeviceReport& report) {
  // One message for an unknown and a revoked token, so that a caller learns nothing.
  const Error refused = MakeError(ErrorCode::kAuth,
                                  "jeton inconnu ou révoqué : demandez un jeton au centre "
                                  "(`relais-central device add`)");
  if (token.empty() || token.size() > kMaxTokenSize) return refused;
  struct Found {
    Device device;
    bool revoked = false;
    bool wipe_ordered = false;
    std::optional<std::string> last_seen;
    std::optional<int64_t> pending;
  };
  std::optional<Found> found;
  {
    // One statement, so that the device and its territories are read in one state of the store.
    auto reader = Reader();
    if (!reader) return reader.error();
    auto rows = reader->conn().Query(kDeviceByToken, {Sha256Hex(token)}, SqlPlan::kReused);
    if (!rows) return rows.error();
    while (true) {
      auto more = (*rows)->Next();
      if (!more) return more.error();
      if (!*more) break;
      const SqlRow& r = **rows;
      if (!found) {
        found.emplace();
        found->device.id = r.Int(0);
        found->device.name = r.Text(1);
        found->device.role = RoleFromText(r.Text(2));
        found->revoked = !r.IsNull(3);
        found->last_seen = r.Val(4);
        found->device.pulled_to = r.Int(6);
        found->wipe_ordered = !r.IsNull(7);
        if (!r.IsNull(8)) found->pending = r.Int(8);
      }
      if (!r.IsNull(5)) found->device.territories.push_back(r.Text(5));
    }
  }
  if (found && found->revoked && found->wipe_ordered) {
    // The order is answered whatever the store says; its delivery is recorded when it can be.
    auto writer = Writer(/*wait=*/true);
    if (writer) (void)(*writer)->conn().Run(kWipeDelivered, {IsoTimestamp(clock_.NowMs()), found->device.id});
    return MakeError(ErrorCode::kWipeOrdered, "cet appareil est révoqué, avec ordre d'effacer sa base locale");
  }
  if (!found || found->revoked) return refused;
  if (found->device.territories.empty()) return refused;
  const int64_t now = clock_.NowMs();
  const bool report_changed = report.pending_changes && report.pending_changes != found->pending;
  if (report_changed || !found->last_seen || *found->last_seen < IsoTimestamp(now - kLastSeenResolutionMs)) {
    // Best effort: a busy writer (a long push) is not worth waiting for.
    auto writer = Writer(/*wait=*/false);
    if (writer && *writer) {
      (void)(**writer)->Run(kTouchDevice, {IsoTimestamp(now), found->device.id,
                                           report.pending_changes ? SqlParam(*report.pending_changes) : SqlParam()});
    }
  }
  return std::move(found->device);
}

// ---- territories -------------------------------------------------------------------------------

Result<Network> SqlCentralStore::GetNetwork() {
  auto reader = Reader();
  if (!reader) return reader.error();
  SqlConn& conn = reader->conn();
  auto snapshot = SqlTransaction::Begin(conn, SqlTransaction::Kind::kSnapshot);
  if (!snapshot) return snapshot.error();
  Network network;
  auto territories = QueryAll(conn, kListTerritories, {}, [](const SqlRow& r) {
    return Territory{r.Text(0), r.Text(1), {}};
  });
  if (!territories) return territories.error();
  network.territories = std::move(*territories);
  auto points =
      QueryAll(conn, kListReceptionPoints, {}, [](const SqlRow& r) { return std::make_pair(r.Text(0), r.Text(1)); });
  if (!points) return points.error();
  for (auto& [code, name] : *points) {
    for (Territory& t : network.territories) {
      if (t.code == code) {
        t.reception_points.push_back(std::move(name));
        break;  // codes are unique
      }
    }
  }
  auto policy = QueryOne(conn, kReadTransferPolicy, {}, [](const SqlRow& r) { return r.Text(0); });
  if (!policy) return policy.error();
  if (*policy && **policy == "review") network.transfers = TransferPolicy::kReview;
  return network;
}

Status SqlCentralStore::AddTerritory(const Territory& territory) {
  RELAIS_TRY(CheckTerritory(territory.code));
  RELAIS_TRY(CheckLabel("libellé", territory.label));
  for (const std::string& point : territory.reception_points) {
    RELAIS_TRY(CheckLabel("point d'accueil", PointName(point)));
  }
  auto writer = Writer(/*wait=*/true);
  if (!writer) return writer.error();
  SqlConn& conn = (*writer)->conn();
  auto tx = SqlTransaction::Begin(conn, SqlTransaction::Kind::kWrite);
  if (!tx) return tx.error();
  auto taken = QueryOne(conn, kTerritoryDeclared, {territory.code}, [](const SqlRow&) { return true; });
  if (!taken) return taken.error();
  if (*taken) {
    return MakeError(ErrorCode::kValidation, "le territoire " + territory.code +
                                                 " est déjà déclaré (changer son libellé : relais-central territory "
                                                 "rename " +
                                                 territory.code + " --label LIBELLÉ)");
  }
  auto added = conn.Run(kDeclareTerritory, {territory.code, territory.label, IsoTimestamp(clock_.NowMs())});
  if (!added) return added.error();
  std::vector<std::string> points;
  for (const std::string& point : territory.reception_points) points.push_back(PointName(point));
  std::sort(points.begin(), points.end());
  points.erase(std::unique(points.begin(), points.end()), points.end());
  for (const std::string& point : points) {
    auto inserted = conn.Run(kInsertReceptionPoint, {territory.code, point});
    if (!inserted) return inserted.error();
  }
  return tx->Commit();
}

Status SqlCentralStore::RenameTerritory(const std::string& code, const std::string& label) {
  RELAIS_TRY(CheckLabel("libellé", label));
  auto writer = Writer(/*wait=*/true);
  if (!writer) return writer.error();
  auto changed = (*writer)->conn().Run(kRenameTerritory, {code, label});
  if (!changed) return changed.error();
  if (*changed == 0) return UnknownTerritory(code);
  return OkStatus();
}

Status SqlCentralStore::EditReceptionPoints(const std::string& code, const std::vector<std::string>& add,
                                            const std::vector<std::string>& remove) {
  std::vector<std::string> added;
  for (const std::string& point : add) {
    added.push_back(PointName(point));
    RELAIS_TRY(CheckLabel("point d'accueil", added.back()));
  }
  auto writer = Writer(/*wait=*/true);
  if (!writer) return writer.error();
  SqlConn& conn = (*writer)->conn();
  auto tx = SqlTransaction::Begin(conn, SqlTransaction::Kind::kWrite);
  if (!tx) return tx.error();
  auto declared = QueryOne(conn, kTerritoryDeclared, {code}, [](const SqlRow&) { return true; });
  if (!declared) return declared.error();
  if (!*declared) return UnknownTerritory(code);
  for (const std::string& point : remove) {
    const std::string name = PointName(point);
    auto removed = conn.Run(kRemoveReceptionPoint, {code, name});
    if (!removed) return removed.error();
    if (*removed == 0) {
      std::string message = "le territoire " + code + " n'a pas de point d'accueil « ";
      message += name;
      message += " » (voir `relais-central territory list`) ; rien n'a été modifié";
      return MakeError(ErrorCode::kNotFound, message);
    }
  }
  for (const std::string& name : added) {
    auto inserted = conn.Run(kAddReceptionPoint, {code, name});
    if (!inserted) return inserted.error();
  }
  return tx->Commit();
}

Status SqlCentralStore::SetTransferPolicy(TransferPolicy policy) {
  auto writer = Writer(/*wait=*/true);
  if (!writer) return writer.error();
  auto written = (*writer)->conn().Run(kWriteTransferPolicy, {std::string(ToString(policy))});
  if (!written) return written.error();
  return OkStatus();
}

// ---- pull and digest ----------------------------------------------------------------------------

Result<sync::PullPage> SqlCentralStore::Pull(const Device& device, int64_t since, size_t limit, bool without_echo) {
  if (since < 0) return MakeError(ErrorCode::kUsage, "since ne peut pas être négatif");
  if (limit == 0) return MakeError(ErrorCode::kUsage, "limit doit valoir au moins 1");
  if (since > device.pulled_to) {
    // A pull from `since` says the device holds every change up to it. Best effort, as last_seen_at:
    // a lagging record only accepts a little more work on cases that left the device
    // (push.cc, HeldWhenWritten), never less.
    auto writer = Writer(/*wait=*/false);
    if (writer && *writer) (void)(**writer)->Run(kPulledTo, {since, device.id});
  }
  auto reader = Reader();
  if (!reader) return reader.error();
  SqlConn& conn = reader->conn();
  const SqlDialect& dialect = conn.dialect();
  auto snapshot = SqlTransaction::Begin(conn, SqlTransaction::Kind::kSnapshot);
  if (!snapshot) return snapshot.error();
  // A `since` beyond the latest sequence (a centre restored from an older backup) gets the last,
  // empty page whose `next` is that sequence, below `since`: the device recovers from it with a
  // fresh copy (docs/PROTOCOL.md, "Divergence check").

  const std::string territories = dialect.list(device.territories);
  // Where sources are stepped as the merge takes their rows, a page that passes the device's own
  // echo reads further (kEchoScan) at the cost of the rows it steps over, not of a larger result;
  // where every source's rows come whole, an echo counts fully (echo_scan 1).
  const size_t echo_scan = without_echo && dialect.steps_rows ? kEchoScan : 1;
  const int64_t fetch = static_cast<int64_t>(limit * echo_scan) + 1;
  const PullQueries& queries = PullQueriesFor(dialect);
  std::vector<SqlPullSource> sources;
  // `scope`: what (2) is bound to, the device's territories as a list or one territory.
  auto add_source = [&](PullSourceKind kind, const TableLayout* layout, const std::string& sql,
                        const std::string& scope) -> Status {
    auto rows = conn.Query(sql, {since, scope, fetch}, SqlPlan::kForValues);
    if (!rows) return rows.error();
    SqlPullSource source;
    source.kind = kind;
    source.layout = layout;
    source.rows = std::move(*rows);
    RELAIS_TRY(source.Advance());
    sources.push_back(std::move(source));
    return OkStatus();
  };
  // A scoped table is read territory by territory, each in version order from its (territory,
  // version) index, and the merge interleaves them: the list form cannot give the index's order, so
  // it sorted every record after `since` for each page (SQLite: 130 ms a page of 5,000 cases over
  // six territories, 22 ms this way).
  for (size_t i = 0; i < Layouts().size(); ++i) {
    if (queries.records_in_territory[i].empty()) {
      RELAIS_TRY(add_source(PullSourceKind::kRecords, &Layouts()[i], queries.records[i], territories));
      continue;
    }
    for (const std::string& territory : device.territories) {
      RELAIS_TRY(add_source(PullSourceKind::kRecords, &Layouts()[i], queries.records_in_territory[i], territory));
    }
  }
  RELAIS_TRY(add_source(PullSourceKind::kExits, nullptr, queries.exits, territories));
  RELAIS_TRY(add_source(PullSourceKind::kOpened, nullptr, queries.opened, territories));
  RELAIS_TRY(add_source(PullSourceKind::kSettled, nullptr, queries.settled, territories));

  auto page = MergePullSources(device, since, limit, sources,
                               without_echo ? std::optional<int64_t>(device.id) : std::nullopt, echo_scan);
  if (!page) return page.error();
  if (!page->more) {
    // In the same snapshot: every number up to last_seq is committed and visible here.
    auto seq = LastSeq(conn);
    if (!seq) return seq.error();
    page->next = *seq;
  }
  return page;
}

namespace {

// Rewrites in NFC the text columns `texts` of the rows of `table`, read by its integer or text key
// `key` in batches; for each row changed, `extra` (", col = ?N…" with N counted from `texts`' end +
// 2) is set from `extra_of(new values)`. Answers how many rows it changed.
Result<int64_t> RewriteRowsToNfc(
    SqlConn& conn, const std::string& table, const std::string& key, bool text_key,
    const std::vector<std::string>& texts, const std::string& extra = "",
    const std::function<SqlParams(const std::vector<schema::Value>&)>& extra_of = nullptr) {
  constexpr int64_t kBatch = 5000;
  std::string select = "SELECT " + key;
  for (const std::string& t : texts) select += ", \"" + t + "\"";
  select += " FROM " + table + " WHERE " + key + " > ?1 ORDER BY " + key + (text_key ? " COLLATE BINARY" : "") +
            " LIMIT " + std::to_string(kBatch);
  std::string update = "UPDATE " + table + " SET ";
  for (size_t i = 0; i < texts.size(); ++i) {
    update += (i ? ", \"" : "\"") + texts[i] + "\" = ?" + std::to_string(i + 2);
  }
  update += extra + " WHERE " + key + " = ?1";
  SqlParam after = text_key ? SqlParam(std::string()) : SqlParam(int64_t{-1});
  int64_t changed = 0;
  while (true) {
    auto tx = SqlTransaction::Begin(conn, SqlTransaction::Kind::kWrite);
    if (!tx) return tx.error();
    std::vector<std::pair<SqlParam, std::vector<schema::Value>>> rewritten;
    int64_t read = 0;
    {
      auto rows = conn.Query(select, {after}, SqlPlan::kReused);
      if (!rows) return rows.error();
      while (true) {
        auto more = (*rows)->Next();
        if (!more) return more.error();
        if (!*more) break;
        ++read;
        after = text_key ? SqlParam((*rows)->Text(0)) : SqlParam((*rows)->Int(0));
        std::vector<schema::Value> values;
        bool differs = false;
        for (size_t i = 0; i < texts.size(); ++i) {
          values.push_back((*rows)->Val(static_cast<int>(i) + 1));
          if (values.back()) differs |= ToNfcInPlace(*values.back());
        }
        if (differs) rewritten.emplace_back(after, std::move(values));
      }
    }
    for (const auto& [id, values] : rewritten) {
      SqlParams params = {id};
      for (const schema::Value& v : values) params.emplace_back(v);
      if (extra_of) {
        for (SqlParam& p : extra_of(values)) params.push_back(std::move(p));
      }
      auto ran = conn.Run(update, params);
      if (!ran) return ran.error();
    }
    RELAIS_TRY(tx->Commit());
    changed += static_cast<int64_t>(rewritten.size());
    if (read < kBatch) return changed;
  }
}

// Stored batches and change outcomes hold the hash and digests of changes as they arrived: text in
// NFD before the rewrite, that a device whose replica was rewritten too resends in NFC. Its batch in
// flight would then be refused for ever (a batch key used for other changes, 409) and each of its
// changes as a change id reused. The batches are forgotten and the digests cleared (as outcomes
// kept before digests): a resent batch is taken change by change, each known change id answered
// again with its first answer, nothing applied twice.
Status ForgetPushHashesBeforeNfc(SqlConn& conn) {
  auto batches = conn.Run("DELETE FROM push_batches", {});
  if (!batches) return batches.error();
  auto digests = conn.Run("UPDATE change_outcomes SET digest = NULL WHERE digest IS NOT NULL", {});
  if (!digests) return digests.error();
  return OkStatus();
}

}  // namespace

Status RewriteTextsToNfc(SqlConn& conn) {
  auto done = QueryOne(conn, "SELECT texts_nfc FROM meta WHERE id = 1", {}, [](const SqlRow& r) { return r.Int(0); });
  if (!done) return done.error();
  if (!*done || **done != 0) return OkStatus();
  int64_t records = 0;
  for (const TableLayout& l : Layouts()) {
    std::vector<std::string> texts;
    for (const schema::Field& f : l.table->fields) {
      if (f.type != schema::FieldType::kInt) texts.emplace_back(f.name);
    }
    // The digests are made again from the new values (FillRecordDigests); a case's identity key
    // from its names, which a key made before folding dropped combining marks may not match.
    std::string extra = ", digest_key = NULL, digest_values = NULL";
    std::function<SqlParams(const std::vector<schema::Value>&)> extra_of;
    if (l.has_identity_key) {
      extra += ", identity_key = ?" + std::to_string(texts.size() + 2);
      const schema::Table& table = *l.table;
      extra_of = [&table](const std::vector<schema::Value>& values) {
        std::vector<schema::Value> record(table.fields.size());
        size_t at = 0;
        for (size_t f = 0; f < table.fields.size(); ++f) {
          if (table.fields[f].type != schema::FieldType::kInt) record[f] = values[at++];
        }
        return SqlParams{CaseIdentityKey(record)};
      };
    }
    auto changed = RewriteRowsToNfc(conn, std::string(l.table->name), "id", true, texts, extra, extra_of);
    if (!changed) return changed.error();
    records += *changed;
  }
  auto history = RewriteRowsToNfc(conn, "history", "seq", false, {"snapshot", "lost"});
  if (!history) return history.error();
  auto conflicts = RewriteRowsToNfc(conn, "conflicts", "id", false,
                                    {"base_value", "server_value", "device_value", "settled_value"});
  if (!conflicts) return conflicts.error();
  if (records + *history + *conflicts > 0) RELAIS_TRY(ForgetPushHashesBeforeNfc(conn));
  auto marked = conn.Run("UPDATE meta SET texts_nfc = 1 WHERE id = 1", {});
  if (!marked) return marked.error();
  if (records + *history + *conflicts > 0) {
    std::fprintf(stderr,
                 "textes remis en forme NFC (une seule fois) : %lld fiche(s), %lld ligne(s) d'historique, %lld "
                 "conflit(s)\n",
                 static_cast<long long>(records), static_cast<long long>(*history),
                 static_cast<long long>(*conflicts));
  }
  return OkStatus();
}

Status FillRecordDigests(SqlConn& conn) {
  constexpr int64_t kBatch = 5000;
  int64_t total = 0;
  for (const TableLayout& l : Layouts()) {
    auto rows = conn.Query("SELECT count(*) FROM " + std::string(l.table->name) + " WHERE digest_values IS NULL", {},
                           SqlPlan::kReused);
    if (!rows) return rows.error();
    auto one = (*rows)->Next();
    if (!one) return one.error();
    if (*one) total += (*rows)->Int(0);
  }
  if (total == 0) return OkStatus();
  std::fprintf(stderr, "calcul des empreintes des fiches (une seule fois) : %lld fiches\n",
               static_cast<long long>(total));
  sync::RecordDigester digester;
  int64_t done = 0;
  for (const TableLayout& l : Layouts()) {
    const std::string name(l.table->name);
    std::string select = "SELECT id, version";
    for (const schema::Field& f : l.table->fields) select += ", \"" + std::string(f.name) + "\"";
    select +=
        " FROM " + name + " WHERE digest_values IS NULL ORDER BY id COLLATE BINARY LIMIT " + std::to_string(kBatch);
    const std::string update = "UPDATE " + name + " SET digest_key = ?1, digest_values = ?2 WHERE id = ?3";
    while (true) {
      auto tx = SqlTransaction::Begin(conn, SqlTransaction::Kind::kWrite);
      if (!tx) return tx.error();
      std::vector<std::pair<std::string, sync::StoredDigests>> batch;
      {
        auto rows = conn.Query(select, {}, SqlPlan::kReused);
        if (!rows) return rows.error();
        schema::Record record;
        while (true) {
          auto more = (*rows)->Next();
          if (!more) return more.error();
          if (!*more) break;
          record.id = (*rows)->Text(0);
          record.version = (*rows)->Int(1);
          record.values.clear();
          for (size_t f = 0; f < l.table->fields.size(); ++f)
            record.values.push_back((*rows)->Val(static_cast<int>(f) + 2));
          batch.emplace_back(record.id, sync::DigestsOf(digester, record.id, record.version, record.values));
        }
      }
      for (const auto& [id, digests] : batch) {
        auto ran = conn.Run(update, {digests.key, digests.values, id});
        if (!ran) return ran.error();
      }
      RELAIS_TRY(tx->Commit());
      done += static_cast<int64_t>(batch.size());
      if (!batch.empty()) {
        std::fprintf(stderr, "empreintes des fiches : %lld / %lld\n", static_cast<long long>(done),
                     static_cast<long long>(total));
      }
      if (static_cast<int64_t>(batch.size()) < kBatch) break;
    }
  }
  return OkStatus();
}

Result<CentralStore::ScopeDigestAt> SqlCentralStore::Digest(const Device& device) {
  auto reader = Reader();
  if (!reader) return reader.error();
  SqlConn& conn = reader->conn();
  auto snapshot = SqlTransaction::Begin(conn, SqlTransaction::Kind::kSnapshot);
  if (!snapshot) return snapshot.error();
  ScopeDigestAt out;
  auto seq = LastSeq(conn);
  if (!seq) return seq.error();
  out.at = *seq;
  const std::string territories = conn.dialect().list(device.territories);
  const DigestQueries& queries = DigestQueriesFor(conn.dialect());
  sync::RecordDigester digester;
  for (size_t t = 0; t < Layouts().size(); ++t) {
    SqlParams params;
    if (IsScoped(*Layouts()[t].table) || conn.dialect().mention_every_param) params.push_back(territories);
    const schema::Table& table = *Layouts()[t].table;
    sync::TableDigest& d = out.digest[table.name];
    // The records whose digests were kept on write: one aggregate.
    auto sums = conn.Query(queries.sums[t], params, SqlPlan::kForValues);
    if (!sums) return sums.error();
    auto one = (*sums)->Next();
    if (!one) return one.error();
    if (*one && (*sums)->Int(0) > 0) {
      const SqlRow& row = **sums;
      d.AddSums(row.Int(0), SumOfHalves(row.Int(1), row.Int(2)), SumOfHalves(row.Int(3), row.Int(4)));
    }
    // The others (few: a follow-up just moved, a store not yet filled): hashed as they are read.
    auto rows = conn.Query(queries.undigested[t], params, SqlPlan::kForValues);
    if (!rows) return rows.error();
    std::string id, value;
    while (true) {
      auto more = (*rows)->Next();
      if (!more) return more.error();
      if (!*more) break;
      const SqlRow& row = **rows;
      id = row.Text(0);
      const int64_t version = row.Int(1);
      digester.Begin(id, version);
      for (size_t f = 0; f < table.fields.size(); ++f) {
        const int col = static_cast<int>(f) + 2;
        if (row.IsNull(col)) {
          digester.AddValue(std::nullopt);
          continue;
        }
        value = row.Text(col);
        digester.AddValue(value);
      }
      d.Add(id, version, digester.Finish());
    }
  }
  return out;
}

// ---- history and conflicts ----------------------------------------------------------------------

Result<std::vector<HistoryEntry>> SqlCentralStore::History(std::string_view table, std::string_view record_id) {
  auto reader = Reader();
  if (!reader) return reader.error();
  return QueryAll(reader->conn(), HistorySql(), {record_id, table}, [](const SqlRow& r) { return ReadHistory(r); });
}

Result<std::vector<schema::Record>> SqlCentralStore::Records(const schema::Table& table, size_t limit) {
  auto reader = Reader();
  if (!reader) return reader.error();
  const TableLayout& layout = LayoutFor(table);
  const std::string sql = "SELECT " + layout.columns + " FROM " + std::string(table.name) + " ORDER BY id" +
                          (limit > 0 ? " LIMIT " + std::to_string(limit) : "");
  return QueryAll(reader->conn(), sql, {}, [&layout](const SqlRow& r) { return ReadRecord(layout, r); });
}

Result<std::vector<schema::Record>> SqlCentralStore::RecordsWhere(const schema::Table& table, std::string_view field,
                                                                   const std::string& value) {
  if (table.FieldIndex(field) < 0) {
    return MakeError(ErrorCode::kInternal, std::string(table.name) + " has no field " + std::string(field));
  }
  auto reader = Reader();
  if (!reader) return reader.error();
  const TableLayout& layout = LayoutFor(table);
  const std::string sql = "SELECT " + layout.columns + " FROM " + std::string(table.name) + " WHERE " +
                          std::string(field) + " = ?1 ORDER BY id";
  return QueryAll(reader->conn(), sql, {value}, [&layout](const SqlRow& r) { return ReadRecord(layout, r); });
}

namespace {
// The engine's reads over a connection of the store, in the dialect's SQL.
class StoreDatabase final : public stats::Database {
 public:
  explicit StoreDatabase(SqlConn& conn) : conn_(conn) {}
  Status Read(const std::string& sql, const std::vector<std::string>& params, int columns,
              const std::function<void(const std::vector<schema::Value>&)>& row) override {
    SqlParams bound(params.begin(), params.end());
    // Planned for the period and territory of the call: they decide whether the date index pays.
    auto rows = conn_.Query(sql, bound, SqlPlan::kForValues);
    if (!rows) return rows.error();
    std::vector<schema::Value> values;
    while (true) {
      auto more = (*rows)->Next();
      if (!more) return more.error();
      if (!*more) return OkStatus();
      values.clear();
      for (int c = 0; c < columns; ++c) values.push_back((*rows)->Val(c));
      row(values);
    }
  }

 private:
  SqlConn& conn_;
};
}  // namespace

Status SqlCentralStore::ReadForStats(const std::function<Status(stats::Database&)>& use) {
  auto reader = Reader();
  if (!reader) return reader.error();
  auto snapshot = SqlTransaction::Begin(reader->conn(), SqlTransaction::Kind::kSnapshot);
  if (!snapshot) return snapshot.error();
  StoreDatabase db(reader->conn());
  return use(db);
}

Result<stats::StatsTable> SqlCentralStore::Stats(const stats::Query& query) {
  RELAIS_TRY(stats::CheckQuery(query));
  Result<stats::StatsTable> out = MakeError(ErrorCode::kIo, "stats : rien n'a été compté");
  RELAIS_TRY(ReadForStats([&](stats::Database& db) {
    out = stats::Compute(query, db);
    return OkStatus();
  }));
  return out;
}

Result<std::vector<Conflict>> SqlCentralStore::Conflicts(const ConflictFilter& filter) {
  auto reader = Reader();
  if (!reader) return reader.error();
  SqlConn& conn = reader->conn();
  const SqlDialect& d = conn.dialect();
  return QueryAll(conn, ConflictsSql(d),
                  {filter.status, filter.record_id, filter.territory, int64_t{filter.scope ? 1 : 0},
                   d.list(filter.scope.value_or(std::vector<std::string>())), static_cast<int64_t>(filter.limit)},
                  [](const SqlRow& r) { return ReadConflict(r, 0); });
}

Result<Conflict> SqlCentralStore::GetConflict(int64_t id) {
  auto reader = Reader();
  if (!reader) return reader.error();
  auto found = QueryOne(reader->conn(), "SELECT " + ConflictColumns() + " FROM conflicts c WHERE c.id = ?1", {id},
                        [](const SqlRow& r) { return ReadConflict(r, 0); });
  if (!found) return found.error();
  if (!*found) {
    return MakeError(ErrorCode::kNotFound, "aucun conflit n° " + std::to_string(id) +
                                               " (voir `relais-central conflicts list --status open`)");
  }
  return std::move(**found);
}

Result<CentralStore::Placement> SqlCentralStore::Locate(std::string_view record_id) {
  auto reader = Reader();
  if (!reader) return reader.error();
  SqlConn& conn = reader->conn();
  auto snapshot = SqlTransaction::Begin(conn, SqlTransaction::Kind::kSnapshot);
  if (!snapshot) return snapshot.error();
  for (const TableLayout& l : Layouts()) {
    const std::string name(l.table->name);
    auto territory = QueryOne(conn,
                              "SELECT " + std::string(IsScoped(*l.table) ? "territory" : "CAST(NULL AS TEXT)") +
                                  " FROM " + name + " WHERE id = ?1",
                              {record_id}, [](const SqlRow& r) { return r.Val(0); });
    if (!territory) return territory.error();
    if (*territory) return Placement{name, std::move(**territory)};
  }
  return MakeError(ErrorCode::kNotFound, "aucun enregistrement " + std::string(record_id) +
                                             " (vérifiez l'identifiant : c'est l'UUID de l'enregistrement)");
}

// ---- settlements --------------------------------------------------------------------------------

Result<Conflict> SqlCentralStore::Resolve(int64_t id, const Decision& decision, const std::string& by) {
  return Settle([&](CentralTx& tx, int64_t now) { return ResolveConflict(tx, id, decision, by, now); });
}

Result<Conflict> SqlCentralStore::Merge(int64_t id, const std::vector<std::string>& take, const std::string& by) {
  return Settle([&](CentralTx& tx, int64_t now) { return MergeDuplicate(tx, id, take, by, now); });
}

Result<Conflict> SqlCentralStore::Dismiss(int64_t id, const std::string& by) {
  return Settle([&](CentralTx& tx, int64_t now) { return DismissDuplicate(tx, id, by, now); });
}

Result<Erasure> SqlCentralStore::ErasePerson(const std::string& case_id, const std::string& reason,
                                             const std::string& by, const std::string& source) {
  // The writer is given back before the checkpoint, which takes it again.
  auto erased = [&]() -> Result<Erasure> {
    auto writer = Writer(/*wait=*/true);
    if (!writer) return writer.error();
    return EraseCase((*writer)->conn(), case_id, reason, by, source, IsoTimestamp(clock_.NowMs()));
  }();
  if (erased && erased->records > 0) erased->wal_truncated = AfterErasure();
  return erased;
}

Result<std::vector<Erasure>> SqlCentralStore::Erasures() {
  auto reader = Reader();
  if (!reader) return reader.error();
  return ListErasures(reader->conn());
}

Result<int64_t> SqlCentralStore::RecordAccess(const std::vector<AccessEntry>& entries) {
  auto writer = Writer(/*wait=*/true);
  if (!writer) return writer.error();
  return InsertAccessEntries((*writer)->conn(), entries, IsoTimestamp(clock_.NowMs()));
}

Result<std::vector<AccessEntry>> SqlCentralStore::AccessLog(const AccessFilter& filter) {
  auto reader = Reader();
  if (!reader) return reader.error();
  return ListAccessEntries(reader->conn(), filter);
}

Status SqlCentralStore::NoteStaffRead(const std::string& reader, std::string_view action, const std::string& table,
                                      const std::string& record_id) {
  auto writer = Writer(/*wait=*/true);
  if (!writer) return writer.error();
  auto case_id = CaseOfRecord((*writer)->conn(), table, record_id);
  if (!case_id) return case_id.error();
  if (!*case_id) return OkStatus();
  const int64_t now = clock_.NowMs();
  auto added = InsertAccessEntries((*writer)->conn(), {CentreAccess(now, reader, action, **case_id)}, IsoTimestamp(now));
  if (!added) return added.error();
  return OkStatus();
}

Result<RetentionPolicy> SqlCentralStore::Retention() {
  auto reader = Reader();
  if (!reader) return reader.error();
  return ReadRetention(reader->conn());
}

Status SqlCentralStore::SetRetention(const RetentionPolicy& policy) {
  auto writer = Writer(/*wait=*/true);
  if (!writer) return writer.error();
  return WriteRetention((*writer)->conn(), policy);
}

Result<std::vector<ClosedCase>> SqlCentralStore::ClosedBefore(const std::string& day) {
  auto reader = Reader();
  if (!reader) return reader.error();
  return server::ClosedBefore(reader->conn(), day);
}

}  // namespace relais::server
