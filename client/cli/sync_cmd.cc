// relais init, relais sync: binding a replica to a centre and synchronising with it.
#include <sys/stat.h>
#include <unistd.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include <cctype>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "client/centre_address.h"
#include "client/cli/clock_notes.h"
#include "client/cli/commands.h"
#include "client/cli/conflict_text.h"
#include "client/cli/output.h"
#include "client/http_transport.h"
#include "client/keyring.h"
#include "client/purge.h"
#include "client/replica_port.h"
#include "client/sync_text.h"
#include "client/territories.h"
#include "client/wipe.h"
#include "sync/centre_answer.h"
#include "sync/codec.h"
#include "sync/negotiation.h"
#include "sync/push_runs.h"

namespace relais::cli {

namespace {

using nlohmann::json;

struct InitOptions {
  std::string server;
  std::string token;
  std::string territory;
  bool same_centre = false;
  bool insecure_http = false;
  std::string ca_file;  // a network's own CA (PEM); empty: the system's
  bool reset = false;   // --reset: a fresh replica in place of one nobody can open
  bool yes = false;     // --yes: --reset without asking
};

// relais init --reset: the replica at the path is erased (a forgotten passphrase leaves it unreadable)
// after saying what is lost and being confirmed; the init that follows makes a fresh one. Nothing is
// pushed. kUsage, nothing changed, when not confirmed.
Status ResetReplica(Context& ctx, bool yes) {
  auto path = ResolveDbPath(ctx.db_flag);
  if (!path) return path.error();
  auto kind = client::ReplicaFileKind(*path);
  if (!kind) return kind.error();
  if (*kind == client::ReplicaFile::kAbsent) return OkStatus();
  std::cerr << "ATTENTION : la base locale " << *path
            << " va être effacée et remplacée par une base neuve liée au centre. Rien n'est envoyé au centre : "
               "les saisies qui n'avaient pas été synchronisées sont perdues (sans la phrase de passe, personne ne "
               "peut plus les lire). Ce qui avait été synchronisé reviendra du centre à la prochaine "
               "synchronisation.\n";
  if (!yes) {
    if (::isatty(STDIN_FILENO) == 0) {
      return MakeError(ErrorCode::kUsage, "relais init --reset efface la base locale : confirmez avec --yes. Rien "
                                          "n'a été modifié.");
    }
    std::cerr << "Effacer la base locale ? Tapez « oui » pour confirmer : ";
    std::string answer;
    std::getline(std::cin, answer);
    if (answer != "oui") return MakeError(ErrorCode::kUsage, "abandon : rien n'a été modifié.");
  }
  if (*kind == client::ReplicaFile::kEncrypted) {
    auto envelope = sqlite::crypt::ReadEnvelope(*path);
    if (envelope && *envelope) client::ForgetInKeyring((*envelope)->replica_id);
  }
  const std::string temp = client::EncryptionTempPath(*path);
  for (const std::string& file : {*path, temp}) {
    for (const char* suffix : {"", "-wal", "-shm", "-journal"}) ::unlink((file + suffix).c_str());
  }
  return OkStatus();
}

// An address as it names a centre: scheme and host in lower case, `localhost` as 127.0.0.1, the
// scheme's default port and trailing slashes left out. Two spellings of one address compare equal.
std::string AddressKey(const std::string& url) {
  const size_t scheme_end = url.find("://");
  if (scheme_end == std::string::npos) return url;
  std::string scheme = url.substr(0, scheme_end);
  std::string rest = url.substr(scheme_end + 3);
  while (!rest.empty() && rest.back() == '/') rest.pop_back();
  const size_t slash = rest.find('/');
  std::string host = rest.substr(0, slash);
  const std::string path = slash == std::string::npos ? "" : rest.substr(slash);
  for (char& c : scheme) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (char& c : host) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  std::string port;
  const size_t colon = host.rfind(':');
  if (colon != std::string::npos && host.find(']', colon) == std::string::npos) {
    port = host.substr(colon + 1);
    host.resize(colon);
  }
  if ((scheme == "http" && port == "80") || (scheme == "https" && port == "443")) port.clear();
  if (host == "localhost" || host == "[::1]") host = "127.0.0.1";
  return scheme + "://" + host + (port.empty() ? "" : ":" + port) + path;
}

struct SyncFlags {
  // 5,000 per batch: the centre commits 22 times instead of 55 for sync_bench's 110,000-record
  // backlog. Within the device's 64 MiB: a formed batch keeps its changes' ids only once its text
  // is made, its values are bounded in bytes (SqliteReplicaPort::kMaxBatchValueBytes), and the
  // push's memory is given back before the pull (peak 55 MiB for that backlog, 62.5 before).
  size_t batch = 5000;
  size_t page = 5000;
  int attempts = 6;
  long stall_s = 30;
};

// Whether the centre of a whoami answer keeps the pending count a device reports, for the next
// sync's requests (client::kStateCentreReadsPending).
Status KeepCentreFeatures(client::Replica& r, const std::string& whoami_body) {
  return r.SetState(client::kStateCentreReadsPending,
                    sync::CentreHasFeature(whoami_body, sync::kFeaturePendingReport) ? "1" : "0");
}

Status RunInit(Context& ctx, const InitOptions& o) {
  // On the text of the address, before the replica is opened or anything is sent.
  RELAIS_TRY(client::CheckCentreAddress(o.server, o.insecure_http));
  if (o.reset) RELAIS_TRY(ResetReplica(ctx, o.yes));
  auto replica = ctx.Replica();
  if (!replica) return replica.error();
  client::Replica& r = **replica;
  auto bound = r.GetState(client::kStateServerUrl);
  if (!bound) return bound.error();
  auto cursor = r.GetState(client::kStatePullCursor);
  if (!cursor) return cursor.error();
  client::SqliteReplicaPort port(r);
  auto known = port.KnownCentre();
  if (!known) return known.error();
  // A replica that holds a centre's data follows that centre only: at the same address (however
  // written), or at a new one the centre confirms by its store id (--same-centre).
  const bool holds_data = *bound && *cursor && **cursor != "0";
  const bool moved = holds_data && AddressKey(**bound) != AddressKey(o.server);
  if (moved && !o.same_centre) {
    return MakeError(ErrorCode::kUsage,
                     "cette base est déjà liée au centre " + **bound +
                         " et en contient les données. Si ce centre a "
                         "changé d'adresse, relancez avec --same-centre : le centre devra confirmer qu'il est le "
                         "même ; pour un autre centre, prenez une nouvelle base (--db)");
  }
  if (moved && known->store_id.empty()) {
    return MakeError(ErrorCode::kUsage,
                     "cette base ne connaît pas encore l'identité de son centre : synchronisez-la une fois à "
                     "l'ancienne adresse (" +
                         **bound + "), puis relancez relais init --same-centre");
  }
  std::string server = o.server;
  while (server.size() > 1 && server.back() == '/') server.pop_back();
  std::string ca_file;
  if (!o.ca_file.empty()) {
    std::error_code ec;
    ca_file = std::filesystem::absolute(o.ca_file, ec).string();
    if (ec || ::access(ca_file.c_str(), R_OK) != 0)
      return MakeError(ErrorCode::kUsage, "--ca-file " + o.ca_file + " : fichier absent ou illisible");
  }
  client::HttpTransport transport(server, o.token);
  transport.SetCaFile(ca_file);
  auto reply = transport.Get("/v1/whoami");
  if (!reply)
    return MakeError(ErrorCode::kNetwork,
                     reply.error().message + ". Vérifiez l'adresse et le réseau, puis relancez relais init.");
  const auto location = reply->headers.find("location");
  if (auto redirect = sync::RedirectAnswer(reply->status, location == reply->headers.end() ? "" : location->second)) {
    return MakeError(ErrorCode::kProtocol, o.server + " : " + client::NotACentreText(*redirect, reply->status));
  }
  if (reply->status == 401) {
    return MakeError(ErrorCode::kAuth,
                     "le centre refuse ce jeton (inconnu ou révoqué) : demandez-en un nouveau à l'équipe centrale. "
                     "Rien n'a changé dans cette base ; vos saisies en attente y restent");
  }
  if (auto what = sync::NotRelaisAnswer(reply->body, reply->status == 200 ? "device" : "error")) {
    return MakeError(ErrorCode::kProtocol, o.server + " : " + client::NotACentreText(*what, reply->status));
  }
  if (reply->status != 200) return sync::DecodeError(reply->body, ErrorCode::kHttp);
  json who = json::parse(reply->body, nullptr, false);
  if (!who.is_object() || !who["device"].is_string() || !who["territories"].is_array()) {
    return MakeError(ErrorCode::kProtocol,
                     o.server + " : " + client::NotACentreText("un document JSON d'une autre forme", reply->status));
  }
  const sync::CentreIdentity centre = sync::CentreIdentityOf(who["centre"].dump());
  if (moved && centre.store_id != known->store_id) {
    return MakeError(ErrorCode::kUsage,
                     "le centre à l'adresse " + o.server + " n'est pas celui de cette base (identifiant " +
                         (centre.store_id.empty() ? std::string("inconnu") : centre.store_id) + ", attendu " +
                         known->store_id +
                         ") : rien n'a changé ; pour un autre centre, prenez une nouvelle base (--db)");
  }
  // The centre's time, to warn at once about a clock that is off (a centre older than "now" says nothing).
  std::optional<int64_t> skew;
  if (who["now"].is_number_integer()) skew = r.clock().NowMs() - who["now"].get<int64_t>();
  std::vector<std::string> territories;
  for (const json& t : who["territories"]) {
    if (t.is_string()) territories.push_back(t.get<std::string>());
  }
  std::string default_territory = o.territory.empty() ? (territories.empty() ? "" : territories.front()) : o.territory;
  if (!o.territory.empty() && std::find(territories.begin(), territories.end(), o.territory) == territories.end()) {
    return MakeError(ErrorCode::kUsage, "--territory " + o.territory + " n'est pas un des territoires de cet appareil");
  }
  {
    auto tx = sqlite::Transaction::Begin(r.db());
    if (!tx) return tx.error();
    RELAIS_TRY(r.SetState(client::kStateServerUrl, server));
    RELAIS_TRY(r.SetState(client::kStateInsecureHttp, client::IsClearTextToNetwork(server) ? "1" : "0"));
    RELAIS_TRY(r.SetState(client::kStateToken, o.token));
    RELAIS_TRY(r.SetState(client::kStateCaFile, ca_file));
    RELAIS_TRY(r.SetState(client::kStateDeviceName, who["device"].get<std::string>()));
    RELAIS_TRY(r.SetState(client::kStateTerritories, json(territories).dump()));
    RELAIS_TRY(client::KeepDeclaredTerritories(r, reply->body));
    RELAIS_TRY(KeepCentreFeatures(r, reply->body));
    if (!default_territory.empty()) RELAIS_TRY(r.SetState(client::kStateDefaultTerritory, default_territory));
    // The centre is remembered once; a replica that already follows one keeps it, so that its next
    // sync sees a new store at this address (a centre reinstalled empty) and pushes its data back.
    if (known->store_id.empty() && !centre.store_id.empty()) RELAIS_TRY(port.RememberCentre(centre));
    if (skew) {
      RELAIS_TRY(r.SetState(kStateClockSkew, std::to_string(*skew)));
      // Edits made before the first sync already come after the centre's time.
      r.hlc().Observe(sync::Hlc{r.clock().NowMs() - *skew, 0, ""});
      RELAIS_TRY(r.SetState(client::kStateHlcLast, r.hlc().last().ToString()));
    }
    RELAIS_TRY(tx->Commit());
  }
  ::chmod(r.path().c_str(), 0600);  // the token and personal data: readable by the owner only
  if (ctx.json) {
    json out = {{"server", server},
                {"device", who["device"]},
                {"territories", territories},
                {"default_territory", default_territory.empty() ? json(nullptr) : json(default_territory)},
                {"clock_skew_ms", skew ? json(*skew) : json(nullptr)}};
    std::cout << out.dump() << "\n";
  } else {
    std::string list;
    for (const auto& t : territories) list += (list.empty() ? "" : ", ") + t;
    std::cout << "Base liée au centre " << server << " (appareil « " << who["device"].get<std::string>()
              << " », territoires : " << list << ").\n"
              << "Synchronisez avec : relais sync\n";
    if (const std::string warning = ClockWarning(skew.value_or(0)); !warning.empty()) {
      std::cout << "Attention : " << warning << "\n";
    }
  }
  return OkStatus();
}

// A one-line progress bar on stderr, redrawn in place; only on a terminal.
class ProgressBar {
 public:
  explicit ProgressBar(bool enabled) : enabled_(enabled) {}
  ~ProgressBar() {
    if (drawn_) std::fprintf(stderr, "\n");
  }
  void Show(const sync::Progress& p) {
    if (!enabled_) return;
    const char* label = p.phase == "push" ? "Envoi    " : p.phase == "verify" ? "Vérification" : "Réception";
    if (p.total > 0) {
      int width = 30;
      int filled = static_cast<int>(width * std::min<int64_t>(p.done, p.total) / p.total);
      std::string bar(static_cast<size_t>(filled), '#');
      bar.append(static_cast<size_t>(width - filled), '.');
      std::fprintf(stderr, "\r%s [%s] %lld/%lld   ", label, bar.c_str(), static_cast<long long>(p.done),
                   static_cast<long long>(p.total));
    } else {
      std::fprintf(stderr, "\r%s %lld enregistrements reçus   ", label, static_cast<long long>(p.done));
    }
    std::fflush(stderr);
    drawn_ = true;
  }

 private:
  bool enabled_;
  bool drawn_ = false;
};

// After a sync: the territories the centre declares now (GET /v1/whoami), kept for the checks of
// `case add|edit` and `relais territories`. Best effort, one attempt on the sync's connection
// (counted in its figures): the sync is done, and a centre that cannot answer now leaves the list
// the replica knew.
void LearnNetwork(client::Replica& r, client::HttpTransport& transport) {
  auto reply = transport.Get("/v1/whoami");
  if (reply && reply->status == 200) {
    (void)client::KeepDeclaredTerritories(r, reply->body);
    (void)KeepCentreFeatures(r, reply->body);
  }
}

// Changes of this replica the centre has not accepted (waiting to be sent, or refused and kept):
// what the device reports (header Relais-Pending), and what a wipe loses.
Result<int64_t> UnacceptedChanges(Context& ctx) {
  auto records = ctx.Records();
  if (!records) return records.error();
  auto counts = (*records)->PendingTotal();
  if (!counts) return counts.error();
  return counts->pending + counts->rejected;
}

// What `relais sync` says of the cases its pull took off the replica: a sentence each, and the
// label of the territory each went to (empty when the centre did not say, or the replica does not
// know the code: the code is said then).
struct RemovedText {
  std::vector<std::string> sentences;
  std::vector<std::string> labels;
};

Result<RemovedText> RemovedCaseSentences(client::Replica& r,
                                         const std::vector<client::SqliteReplicaPort::RemovedCase>& cases) {
  RemovedText text;
  if (cases.empty()) return text;
  auto declared = client::DeclaredTerritories(r);
  if (!declared) return declared.error();
  for (const client::SqliteReplicaPort::RemovedCase& c : cases) {
    std::string label;
    if (!c.to.empty() && *declared) {
      for (const client::DeclaredTerritory& t : **declared) {
        if (t.code == c.to) label = t.label;
      }
    }
    std::string sentence = "le dossier " + c.name + " (" + c.id + ") ";
    if (c.to.empty())
      sentence += "n'est plus dans vos territoires";
    else
      sentence += "est passé dans le territoire « " + (label.empty() ? c.to : label) + " »";
    sentence += " : il a quitté cette base";
    if (c.followups > 0) sentence += ", et ses " + std::to_string(c.followups) + " suivi(s) avec lui";
    if (c.rejected > 0) {
      sentence += " ; " + std::to_string(c.rejected) +
                  " modification(s) de ce dossier que le centre n'a pas acceptée(s) restent sur cet appareil, "
                  "refusées (voir relais rejected)";
    }
    text.sentences.push_back(std::move(sentence));
    text.labels.push_back(std::move(label));
  }
  return text;
}

// The link to the centre the replica is bound to, and the options of an exchange with it: what
// `relais sync` and `relais verify` share.
struct CentreLink {
  std::string server;
  std::unique_ptr<client::HttpTransport> transport;
  sync::SyncOptions options;
};

Result<CentreLink> LinkToCentre(client::Replica& r, const SyncFlags& flags) {
  auto server = r.GetState(client::kStateServerUrl);
  auto token = r.GetState(client::kStateToken);
  if (!server) return server.error();
  if (!token) return token.error();
  if (!*server || !*token) {
    return MakeError(ErrorCode::kUsage,
                     "cette base n'est liée à aucun centre : lancez d'abord relais init --server URL --token JETON");
  }
  // A replica bound before clear text was refused, or a file edited by hand, is held to the rule too.
  auto insecure_http = r.GetState(client::kStateInsecureHttp);
  if (!insecure_http) return insecure_http.error();
  if (Status clear = client::CheckCentreAddress(**server, *insecure_http == "1"); !clear.ok()) {
    return MakeError(ErrorCode::kUsage, "cette base est liée à " + clear.error().message);
  }
  // A batch reads its records by id across the whole replica and a pulled page writes thousands
  // of rows and their search terms: with SQLite's default 2 MiB cache both spill pages to the WAL
  // mid-transaction and read them back. 12 MiB keeps `relais sync` within its memory budget (64 MiB).
  RELAIS_TRY(r.db().Exec("PRAGMA cache_size = -12288"));
#if defined(__GLIBC__)
  // A batch's text and a page's body are megabytes, made and freed on several threads. glibc would
  // raise its mmap threshold to their size after the first is freed and from then on keep them in
  // each thread's arena; mapped and unmapped each time, they are given back as soon as freed.
  mallopt(M_MMAP_THRESHOLD, 512 << 10);
#endif
  CentreLink link;
  link.server = **server;
  link.transport = std::make_unique<client::HttpTransport>(**server, **token);
  link.transport->SetTimeouts(10, flags.stall_s, 600);
  auto ca_file = r.GetState(client::kStateCaFile);
  if (!ca_file) return ca_file.error();
  link.transport->SetCaFile(ca_file->value_or(""));
  sync::SyncOptions& options = link.options;
  options.push_batch = flags.batch;
  options.pull_limit = flags.page;
  options.max_attempts = flags.attempts;
  auto device_name = r.GetState(client::kStateDeviceName);
  if (!device_name) return device_name.error();
  options.device_name = device_name->value_or("");
  auto territories = r.GetState(client::kStateTerritories);
  if (!territories) return territories.error();
  if (*territories) {
    json list = json::parse(**territories, nullptr, false);
    if (list.is_array()) {
      options.scope.territories.emplace();
      for (const json& t : list) {
        if (t.is_string()) options.scope.territories->push_back(t.get<std::string>());
      }
    }
  }
  return link;
}

// `wipe_order`: set to the store_id a wipe order named when the centre answered one
// (ObeyWipeOrder follows, once this function's hold on the replica is gone).
Status RunSyncCommand(Context& ctx, const SyncFlags& flags, std::optional<std::string>& wipe_order) {
  auto replica = ctx.Replica();
  if (!replica) return replica.error();
  client::Replica& r = **replica;
  auto link = LinkToCentre(r, flags);
  if (!link) return link.error();
  client::HttpTransport& transport = *link->transport;
  // Every request tells the centre what the replica holds unaccepted, to a centre that keeps it.
  auto reads_pending = r.GetState(client::kStateCentreReadsPending);
  if (!reads_pending) return reads_pending.error();
  const bool report = *reads_pending == "1";
  if (report) {
    auto unaccepted = UnacceptedChanges(ctx);
    if (!unaccepted) return unaccepted.error();
    transport.ReportPending(*unaccepted);
  }
  const std::string* server = &link->server;
  sync::SyncOptions& options = link->options;
  client::SqliteReplicaPort port(r);
  ProgressBar bar(!ctx.json && ::isatty(STDERR_FILENO));
  options.progress = [&](const sync::Progress& p) { bar.Show(p); };
  auto started = std::chrono::steady_clock::now();
  auto summary = sync::RunSync(port, transport, options);
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  // What the pull erased (even when a later step failed) leaves nothing readable in the files.
  RELAIS_TRY(client::ScrubErased(r));
  if (!summary) {
    if (summary.error().code == ErrorCode::kWipeOrdered) {
      wipe_order = summary.error().wipe_store_id;
      return MakeError(ErrorCode::kWipeOrdered, "ordre d'effacement");
    }
    Error e = client::SyncErrorForPeople(summary.error());
    if (summary.error().failure == sync::SyncFailure::kNotACentre) e.message = *server + " : " + e.message;
    return e;
  }
  RELAIS_TRY(r.SetState(client::kStateLastSyncAt, IsoTimestamp(r.clock().NowMs())));
  // The last question of the sync reports what is left unaccepted after it.
  if (report) {
    auto unaccepted = UnacceptedChanges(ctx);
    if (!unaccepted) return unaccepted.error();
    transport.ReportPending(*unaccepted);
  }
  LearnNetwork(r, transport);
  // The skew as measured against the last pull page's time (none when no page came).
  if (summary->pages > 0 || summary->clock_skew_ms != 0) {
    RELAIS_TRY(r.SetState(kStateClockSkew, std::to_string(summary->clock_skew_ms)));
  }

  const sync::SyncSummary& s = *summary;
  const std::string divergence = s.divergence ? client::DivergenceText(*s.divergence) : std::string();
  auto records = ctx.Records();
  if (!records) return records.error();
  // What happened to this device's edits while it was away, as sentences that name the case.
  std::vector<std::string> sentences;
  for (const sync::ConflictNotice& n : s.own_conflicts) {
    auto sentence = NoticeSentence(**records, n);
    if (!sentence) return sentence.error();
    sentences.push_back(std::move(*sentence));
  }
  std::vector<std::string> lost_sentences;
  for (const sync::LostEdit& lost : s.lost_edits) {
    auto sentence = LostEditSentence(**records, lost);
    if (!sentence) return sentence.error();
    lost_sentences.push_back(std::move(*sentence));
  }
  auto removed = RemovedCaseSentences(r, port.removed_cases());
  if (!removed) return removed.error();
  if (ctx.json) {
    json removed_cases = json::array();
    for (size_t i = 0; i < port.removed_cases().size(); ++i) {
      const client::SqliteReplicaPort::RemovedCase& c = port.removed_cases()[i];
      removed_cases.push_back({{"case", c.id},
                               {"name", c.name},
                               {"to", c.to.empty() ? json(nullptr) : json(c.to)},
                               {"to_label", removed->labels[i].empty() ? json(nullptr) : json(removed->labels[i])},
                               {"followups", c.followups},
                               {"rejected", c.rejected},
                               {"message", removed->sentences[i]}});
    }
    json rejections = json::array();
    for (const auto& rej : s.rejections) rejections.push_back({{"change", rej.change_id}, {"reason", rej.reason}});
    auto text_or_null = [](const std::string& t) { return t.empty() ? json(nullptr) : json(t); };
    auto value_or_null = [](const schema::Value& v) { return v ? json(*v) : json(nullptr); };
    json opened = json::array(), settlements = json::array();
    for (size_t i = 0; i < s.own_conflicts.size(); ++i) {
      const sync::ConflictNotice& n = s.own_conflicts[i];
      (n.status == "settled" ? settlements : opened)
          .push_back({{"conflict", n.id},
                      {"kind", n.kind},
                      {"table", n.table},
                      {"record", n.record_id},
                      {"field", text_or_null(n.field)},
                      {"other", text_or_null(n.other_id)},
                      {"settlement", text_or_null(n.settlement)},
                      {"settled_value", value_or_null(n.settled_value)},
                      {"device_value", value_or_null(n.device_value)},
                      {"server_value", value_or_null(n.server_value)},
                      {"server_device", text_or_null(n.server_device)},
                      {"message", sentences[i]}});
    }
    json lost = json::array();
    for (size_t i = 0; i < s.lost_edits.size(); ++i) {
      const sync::LostEdit& l = s.lost_edits[i];
      lost.push_back({{"table", l.table}, {"record", l.record_id}, {"field", l.field}, {"message", lost_sentences[i]}});
    }
    json out = {{"pushed", s.pushed},
                {"applied", s.applied},
                {"merged", s.merged},
                {"conflicts", s.review},
                {"rejected", s.rejected},
                {"pulled", s.pulled},
                {"removed", s.removed},
                {"removed_cases", removed_cases},
                {"erased_cases", port.erased_cases()},
                {"purged_cases", s.purged_cases},
                {"access_log_sent", s.access_sent},
                {"access_log_refused", text_or_null(s.access_refused)},
                {"batches", s.batches},
                {"pages", s.pages},
                {"retries", s.retries},
                {"requests", transport.requests()},
                {"bytes_sent", transport.bytes_sent()},
                {"bytes_received", transport.bytes_received()},
                {"seconds", seconds},
                {"rejections", rejections},
                {"lost", lost},
                {"conflicts_opened", s.conflicts_opened},
                {"conflicts_settled", s.conflicts_settled},
                {"opened", opened},
                {"settlements", settlements},
                {"checked", s.checked},
                {"divergence", text_or_null(divergence)},
                {"orphans", s.divergence ? json(s.divergence->orphans) : json::array()},
                {"recovered_records", s.recovered_records},
                {"centre_restored", s.centre_restored},
                {"pushed_back", s.pushed_back},
                {"clock_skew_ms", s.clock_skew_ms}};
    std::cout << out.dump() << "\n";
    return OkStatus();
  }
  std::cout << "Synchronisation terminée en " << (static_cast<int64_t>(seconds * 10) / 10.0) << " s.\n"
            << "  envoyées : " << s.pushed << " modification(s)";
  if (s.merged) std::cout << ", dont " << s.merged << " fusionnée(s) avec d'autres saisies";
  std::cout << "\n  reçues : " << s.pulled << " fiche(s)";
  if (s.removed) std::cout << ", " << s.removed << " retirée(s) (sorties de vos territoires)";
  std::cout << "\n";
  for (const std::string& sentence : lost_sentences) std::cout << "  " << sentence << "\n";
  for (const std::string& sentence : removed->sentences) std::cout << "  " << sentence << "\n";
  if (port.erased_cases() > 0) {
    std::cout << "  " << port.erased_cases()
              << (port.erased_cases() == 1 ? " dossier effacé" : " dossiers effacés")
              << " à la demande du centre (la personne a demandé l'effacement de ses données)\n";
  }
  if (s.purged_cases > 0) {
    auto days = client::DeviceRetentionDays(r);
    if (!days) return days.error();
    std::cout << "  " << s.purged_cases << (s.purged_cases == 1 ? " dossier clos retiré" : " dossiers clos retirés")
              << " de cet appareil (clos depuis plus de " << days->value_or(0)
              << " jours, selon la règle de conservation du réseau ; le centre les garde)\n";
  }
  if (s.access_sent > 0) {
    std::cout << "  journal des accès : " << s.access_sent << " lecture(s) de dossiers transmise(s) au centre\n";
  }
  if (!s.access_refused.empty()) {
    std::cout << "  journal des accès refusé par le centre : " << s.access_refused
              << " (les lectures restent sur cet appareil ; signalez-le à l'équipe centrale)\n";
  }
  if (s.review) {
    std::cout << "  en conflit : " << s.review
              << " modification(s) gardée(s) pour arbitrage par le centre (votre saisie n'est pas perdue)\n";
  }
  for (const std::string& sentence : sentences) std::cout << "  " << sentence << "\n";
  if (s.conflicts_opened) std::cout << "  Voir relais conflicts pour les conflits en attente.\n";
  if (s.rejected) {
    std::cout << "  refusées : " << s.rejected << " modification(s), conservées sur cet appareil :\n";
    for (const auto& rej : s.rejections) std::cout << "    - " << rej.change_id << " : " << rej.reason << "\n";
    std::cout << "  Voir relais rejected pour les lire, les renvoyer ou y renoncer.\n";
  }
  if (const std::string warning = ClockWarning(s.clock_skew_ms); !warning.empty()) {
    std::cout << "  attention : " << warning << "\n";
  }
  if (s.centre_restored) {
    std::cout << "  le centre a perdu une partie de son historique (restauré d'une sauvegarde, ou réinstallé) : ";
    if (s.pushed_back)
      std::cout << s.pushed_back << " fiche(s) qu'il n'avait plus lui ont été renvoyées depuis cet appareil";
    else
      std::cout << "cet appareil n'avait rien qu'il n'ait déjà";
    std::cout << " ; rien n'est perdu, vos saisies en attente sont gardées\n";
  }
  if (s.divergence) {
    std::cout << "  vérification : la base locale différait du centre (" << divergence << ") ; " << s.recovered_records
              << " fiche(s) recopiée(s) du centre, vos saisies en attente gardées\n";
  } else if (s.checked) {
    std::cout << "  vérification : la base locale est identique à celle du centre\n";
  }
  std::cout << "  réseau : " << transport.bytes_sent() << " octets envoyés, " << transport.bytes_received()
            << " reçus, " << transport.requests() << " requête(s)\n";
  return OkStatus();
}

struct VerifyFlags {
  bool local = false;  // the replica alone: the centre is not asked
  SyncFlags sync;
};

// A record `relais verify` found altered, for people: "dossier Martin Zoé (id)", "suivi id".
Result<std::string> AlteredText(client::Records& records, const client::SqliteReplicaPort::AlteredRecord& a) {
  if (a.table == schema::CasesTable().name) {
    auto name = CaseName(records, a.id);
    if (!name) return name.error();
    return "dossier " + (name->empty() ? a.id : *name + " (" + a.id + ")");
  }
  return std::string(a.table == schema::FollowupsTable().name ? "suivi " : "contact ") + a.id;
}

// relais verify: every record of the replica checked against the digest kept when it was pulled,
// then (unless --local) the replica against the centre's digest of the scope, a difference repaired
// by a fresh copy as `relais sync` does (its pending changes stay, for the next sync).
Status RunVerifyCommand(Context& ctx, const VerifyFlags& flags, std::optional<std::string>& wipe_order) {
  auto replica = ctx.Replica();
  if (!replica) return replica.error();
  client::Replica& r = **replica;
  auto records = ctx.Records();
  if (!records) return records.error();
  client::SqliteReplicaPort port(r);
  ProgressBar bar(!ctx.json && ::isatty(STDERR_FILENO));
  auto full = port.CheckEveryRecord([&](int64_t done, int64_t total) { bar.Show({"verify", done, total}); });
  if (!full) return full.error();
  std::vector<std::string> altered;
  for (const client::SqliteReplicaPort::AlteredRecord& a : full->altered) {
    auto text = AlteredText(**records, a);
    if (!text) return text.error();
    altered.push_back(std::move(*text));
  }

  std::optional<sync::SyncSummary> summary;
  if (!flags.local) {
    auto link = LinkToCentre(r, flags.sync);
    if (!link) return link.error();
    link->options.push = false;
    link->options.progress = [&](const sync::Progress& p) { bar.Show(p); };
    auto ran = sync::RunSync(port, *link->transport, link->options);
    if (!ran) {
      if (ran.error().code == ErrorCode::kWipeOrdered) {
        wipe_order = ran.error().wipe_store_id;
        return MakeError(ErrorCode::kWipeOrdered, "ordre d'effacement");
      }
      Error e = client::SyncErrorForPeople(ran.error());
      if (ran.error().failure == sync::SyncFailure::kNotACentre) e.message = link->server + " : " + e.message;
      return e;
    }
    summary = std::move(*ran);
  }
  const std::string divergence =
      summary && summary->divergence ? client::DivergenceText(*summary->divergence) : std::string();
  if (ctx.json) {
    json listed = json::array();
    for (size_t i = 0; i < full->altered.size(); ++i) {
      listed.push_back({{"table", full->altered[i].table}, {"record", full->altered[i].id}, {"message", altered[i]}});
    }
    json out = {{"records", full->records},
                {"altered", listed},
                {"centre_checked", summary && summary->checked},
                {"divergence", divergence.empty() ? json(nullptr) : json(divergence)},
                {"orphans", summary && summary->divergence ? json(summary->divergence->orphans) : json::array()},
                {"pulled", summary ? summary->pulled : 0},
                {"recovered_records", summary ? summary->recovered_records : 0}};
    std::cout << out.dump() << "\n";
    return OkStatus();
  }
  std::cout << "Vérification complète : " << full->records << " fiche(s) relue(s).\n";
  if (altered.empty()) {
    std::cout << "  chaque fiche est telle que le centre l'a envoyée\n";
  } else {
    std::cout << "  " << altered.size() << " fiche(s) diffèrent de ce que le centre a envoyé (modifiées sur le disque) :\n";
    for (const std::string& text : altered) std::cout << "    - " << text << "\n";
  }
  if (!summary) {
    if (!altered.empty()) std::cout << "  centre non consulté (--local) : la prochaine relais sync les recopiera du centre\n";
  } else if (summary->divergence) {
    std::cout << "  centre : la base locale différait (" << divergence << ") ; " << summary->recovered_records
              << " fiche(s) recopiée(s) du centre, vos saisies en attente gardées (envoyées à la prochaine relais "
                 "sync)\n";
  } else if (summary->checked) {
    std::cout << "  centre : la base locale est identique à celle du centre\n";
  } else {
    std::cout << "  centre : il n'a pas donné son empreinte cette fois (des envois en cours) ; relancez relais verify\n";
  }
  return OkStatus();
}

// The centre answered this replica's token with a wipe order naming `ordered_store_id`: erases the
// replica when the order is its own centre's (client::JudgeWipeOrder), and says what happened.
Status ObeyWipeOrder(Context& ctx, const std::string& ordered_store_id) {
  auto replica = ctx.Replica();
  if (!replica) return replica.error();
  client::Replica& r = **replica;
  auto server = r.GetState(client::kStateServerUrl);
  if (!server) return server.error();
  const std::string address = server->value_or("");
  std::string known_store_id;
  {
    client::SqliteReplicaPort port(r);
    auto known = port.KnownCentre();
    if (!known) return known.error();
    known_store_id = known->store_id;
  }
  const client::WipeVerdict verdict =
      client::JudgeWipeOrder(known_store_id, ordered_store_id, client::IsClearTextToNetwork(address));
  if (verdict != client::WipeVerdict::kObey) {
    return MakeError(ErrorCode::kAuth, client::WipeRefusedText(verdict, address, known_store_id, ordered_store_id));
  }
  auto unaccepted = UnacceptedChanges(ctx);
  if (!unaccepted) return unaccepted.error();
  const std::string path = r.path();
  ctx.CloseReplica();
  auto erased = client::WipeReplicaFiles(path);
  if (!erased) {
    return MakeError(ErrorCode::kIo, "cet appareil a été révoqué par le centre, avec ordre d'effacement, mais "
                                     "l'effacement de sa base locale n'a pas abouti : " +
                                         erased.error().message +
                                         ". Supprimez à la main ce qui reste de " + path +
                                         " (et des fichiers de même nom suivi de -wal, -shm ou -journal), puis "
                                         "contactez l'équipe centrale.");
  }
  return MakeError(ErrorCode::kWipeOrdered, client::WipedText(path, *unaccepted));
}

Status SyncCommand(Context& ctx, const SyncFlags& flags) {
  std::optional<std::string> wipe_order;
  Status synced = RunSyncCommand(ctx, flags, wipe_order);
  if (!wipe_order) return synced;
  return ObeyWipeOrder(ctx, *wipe_order);
}

Status VerifyCommand(Context& ctx, const VerifyFlags& flags) {
  std::optional<std::string> wipe_order;
  Status verified = RunVerifyCommand(ctx, flags, wipe_order);
  if (!wipe_order) return verified;
  return ObeyWipeOrder(ctx, *wipe_order);
}

}  // namespace

void RegisterSyncCommands(CLI::App& app, Context& ctx) {
  auto init = std::make_shared<InitOptions>();
  CLI::App* init_cmd = app.add_subcommand("init", "Lier cette base à un centre Relais (jeton fourni par le centre)");
  init_cmd->add_option("--server", init->server, "Adresse du centre, ex. https://relais.exemple.fr")->required();
  init_cmd->add_option("--token", init->token, "Jeton de l'appareil (relais-central device add)")->required();
  init_cmd->add_option("--territory", init->territory, "Territoire par défaut des nouveaux dossiers");
  init_cmd->add_flag("--same-centre", init->same_centre,
                     "Suivre le même centre à une nouvelle adresse (le centre confirme son identifiant)");
  init_cmd->add_flag("--insecure-http", init->insecure_http,
                     "Accepter une adresse http:// hors de cette machine : jeton et dossiers en clair sur le réseau");
  init_cmd->add_option("--ca-file", init->ca_file,
                       "Certificats (PEM) de l'autorité qui signe le certificat du centre, si le réseau a la sienne");
  init_cmd->add_flag("--reset", init->reset,
                     "Phrase de passe oubliée : effacer la base locale illisible et en prendre une neuve (les saisies "
                     "non synchronisées sont perdues)");
  init_cmd->add_flag("--yes", init->yes, "Avec --reset : ne pas demander de confirmation (scripts)");
  init_cmd->callback([&ctx, init] { ctx.Finish(RunInit(ctx, *init)); });

  auto flags = std::make_shared<SyncFlags>();
  CLI::App* sync_cmd = app.add_subcommand("sync", "Envoyer les saisies locales au centre et recevoir les nouveautés");
  sync_cmd->add_option("--batch", flags->batch, "Modifications par envoi (défaut 5000)")->check(CLI::Range(1, 10000));
  sync_cmd->add_option("--page", flags->page, "Fiches par page reçue (défaut 5000)")->check(CLI::Range(1, 10000));
  sync_cmd->add_option("--attempts", flags->attempts, "Tentatives par requête avant d'abandonner (défaut 6)")
      ->check(CLI::Range(1, 100));
  sync_cmd
      ->add_option("--stall-timeout", flags->stall_s,
                   "Abandonner (puis réessayer) une requête qui ne reçoit plus rien pendant N secondes (défaut 30)")
      ->check(CLI::Range(1, 3600));
  sync_cmd->callback([&ctx, flags] { ctx.Finish(SyncCommand(ctx, *flags)); });

  auto verify = std::make_shared<VerifyFlags>();
  CLI::App* verify_cmd = app.add_subcommand(
      "verify", "Vérifier chaque fiche de la base locale, puis la comparer au centre et la réparer s'il le faut");
  verify_cmd->add_flag("--local", verify->local, "Ne vérifier que la base locale, sans consulter le centre");
  verify_cmd->callback([&ctx, verify] { ctx.Finish(VerifyCommand(ctx, *verify)); });
}

}  // namespace relais::cli
