// relais init, relais sync: binding a replica to a centre and synchronising with it.
#include <sys/stat.h>
#include <unistd.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iostream>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "client/cli/commands.h"
#include "client/cli/conflict_text.h"
#include "client/cli/output.h"
#include "client/http_transport.h"
#include "client/replica_port.h"
#include "client/sync_text.h"
#include "sync/codec.h"

namespace relais::cli {

namespace {

using nlohmann::json;

struct InitOptions {
  std::string server;
  std::string token;
  std::string territory;
};

// A device clock further than this from the centre's gets a warning after a sync (the centre
// clamps stamps from the future at the same distance, server/push.h kMaxFutureSkewMs).
constexpr int64_t kClockWarningMs = 5 * 60 * 1000;

// "30 jours", "3 h", "12 min": how far off a clock is, for people.
std::string DurationText(int64_t ms) {
  const int64_t minutes = ms / 60000, hours = minutes / 60, days = hours / 24;
  if (days >= 2) return std::to_string(days) + " jours";
  if (hours >= 2) return std::to_string(hours) + " h";
  return std::to_string(minutes) + " min";
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

Status RunInit(Context& ctx, const InitOptions& o) {
  auto replica = ctx.Replica();
  if (!replica) return replica.error();
  client::Replica& r = **replica;
  if (o.server.rfind("http://", 0) != 0 && o.server.rfind("https://", 0) != 0) {
    return MakeError(ErrorCode::kUsage, "--server : " + o.server + " n'est pas une adresse http:// ou https://");
  }
  auto bound = r.GetState(client::kStateServerUrl);
  if (!bound) return bound.error();
  auto cursor = r.GetState(client::kStatePullCursor);
  if (!cursor) return cursor.error();
  if (*bound && **bound != o.server && *cursor && **cursor != "0") {
    return MakeError(ErrorCode::kUsage,
                     "cette base est déjà liée à " + **bound +
                         " et en contient les données ; prenez une nouvelle base (--db) pour un autre centre");
  }
  client::HttpTransport transport(o.server, o.token);
  auto reply = transport.Get("/v1/whoami");
  if (!reply)
    return MakeError(ErrorCode::kNetwork,
                     reply.error().message + ". Vérifiez l'adresse et le réseau, puis relancez relais init.");
  if (reply->status == 401) {
    return MakeError(ErrorCode::kAuth,
                     "le centre refuse ce jeton (inconnu ou révoqué) : demandez-en un nouveau à l'équipe centrale");
  }
  if (reply->status != 200) return sync::DecodeError(reply->body, ErrorCode::kHttp);
  json who = json::parse(reply->body, nullptr, false);
  if (!who.is_object() || !who["device"].is_string() || !who["territories"].is_array()) {
    return MakeError(ErrorCode::kProtocol,
                     "la réponse du centre à whoami n'est pas comprise ; est-ce bien un centre Relais ?");
  }
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
    RELAIS_TRY(r.SetState(client::kStateServerUrl, o.server));
    RELAIS_TRY(r.SetState(client::kStateToken, o.token));
    RELAIS_TRY(r.SetState(client::kStateDeviceName, who["device"].get<std::string>()));
    RELAIS_TRY(r.SetState(client::kStateTerritories, json(territories).dump()));
    if (!default_territory.empty()) RELAIS_TRY(r.SetState(client::kStateDefaultTerritory, default_territory));
    RELAIS_TRY(tx->Commit());
  }
  ::chmod(r.path().c_str(), 0600);  // the token and personal data: readable by the owner only
  if (ctx.json) {
    json out = {{"server", o.server},
                {"device", who["device"]},
                {"territories", territories},
                {"default_territory", default_territory.empty() ? json(nullptr) : json(default_territory)}};
    std::cout << out.dump() << "\n";
  } else {
    std::string list;
    for (const auto& t : territories) list += (list.empty() ? "" : ", ") + t;
    std::cout << "Base liée au centre " << o.server << " (appareil « " << who["device"].get<std::string>()
              << " », territoires : " << list << ").\n"
              << "Synchronisez avec : relais sync\n";
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
    const char* label = p.phase == "push" ? "Envoi    " : "Réception";
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

Status RunSyncCommand(Context& ctx, const SyncFlags& flags) {
  auto replica = ctx.Replica();
  if (!replica) return replica.error();
  client::Replica& r = **replica;
  auto server = r.GetState(client::kStateServerUrl);
  auto token = r.GetState(client::kStateToken);
  if (!server) return server.error();
  if (!token) return token.error();
  if (!*server || !*token) {
    return MakeError(ErrorCode::kUsage,
                     "cette base n'est liée à aucun centre : lancez d'abord relais init --server URL --token JETON");
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
  client::HttpTransport transport(**server, **token);
  transport.SetTimeouts(10, flags.stall_s, 600);
  client::SqliteReplicaPort port(r);
  ProgressBar bar(!ctx.json && ::isatty(STDERR_FILENO));
  sync::SyncOptions options;
  options.push_batch = flags.batch;
  options.pull_limit = flags.page;
  options.max_attempts = flags.attempts;
  options.progress = [&](const sync::Progress& p) { bar.Show(p); };
  auto device_name = r.GetState(client::kStateDeviceName);
  if (!device_name) return device_name.error();
  options.device_name = device_name->value_or("");
  auto started = std::chrono::steady_clock::now();
  auto summary = sync::RunSync(port, transport, options);
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  if (!summary) return client::SyncErrorForPeople(summary.error());
  RELAIS_TRY(r.SetState(client::kStateLastSyncAt, IsoTimestamp(r.clock().NowMs())));

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
  if (ctx.json) {
    json removed_cases = json::array();
    for (const client::SqliteReplicaPort::RemovedCase& c : port.removed_cases())
      removed_cases.push_back({{"case", c.id}, {"name", c.name}});
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
    json out = {{"pushed", s.pushed},
                {"applied", s.applied},
                {"merged", s.merged},
                {"conflicts", s.review},
                {"rejected", s.rejected},
                {"pulled", s.pulled},
                {"removed", s.removed},
                {"removed_cases", removed_cases},
                {"batches", s.batches},
                {"pages", s.pages},
                {"retries", s.retries},
                {"requests", transport.requests()},
                {"bytes_sent", transport.bytes_sent()},
                {"bytes_received", transport.bytes_received()},
                {"seconds", seconds},
                {"rejections", rejections},
                {"conflicts_opened", s.conflicts_opened},
                {"conflicts_settled", s.conflicts_settled},
                {"opened", opened},
                {"settlements", settlements},
                {"checked", s.checked},
                {"divergence", text_or_null(divergence)},
                {"recovered_records", s.recovered_records},
                {"clock_skew_ms", s.clock_skew_ms}};
    std::cout << out.dump() << "\n";
    return OkStatus();
  }
  std::cout << "Synchronisation terminée en " << (static_cast<int64_t>(seconds * 10) / 10.0) << " s.\n"
            << "  envoyées : " << s.pushed << " modification(s)";
  if (s.merged) std::cout << ", dont " << s.merged << " fusionnée(s) avec d'autres saisies";
  std::cout << "\n  reçues : " << s.pulled << " fiche(s)";
  if (s.removed) std::cout << ", " << s.removed << " retirée(s) (hors de vos territoires)";
  std::cout << "\n";
  for (const client::SqliteReplicaPort::RemovedCase& c : port.removed_cases()) {
    std::cout << "  le dossier " << c.name << " (" << c.id
              << ") est passé dans un autre territoire : il a quitté cette base, avec ses suivis\n";
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
  if (std::abs(s.clock_skew_ms) > kClockWarningMs) {
    std::cout << "  attention : l'horloge de cet ordinateur " << (s.clock_skew_ms > 0 ? "avance" : "retarde") << " de "
              << DurationText(std::abs(s.clock_skew_ms)) << " sur celle du centre. Réglez sa date et son heure ; "
              << "l'ordre de vos saisies reste juste (horloge hybride)";
    if (s.clock_skew_ms > 0) std::cout << ", le centre les date à leur réception";
    std::cout << ".\n";
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

}  // namespace

void RegisterSyncCommands(CLI::App& app, Context& ctx) {
  auto init = std::make_shared<InitOptions>();
  CLI::App* init_cmd = app.add_subcommand("init", "Lier cette base à un centre Relais (jeton fourni par le centre)");
  init_cmd->add_option("--server", init->server, "Adresse du centre, ex. https://relais.exemple.fr")->required();
  init_cmd->add_option("--token", init->token, "Jeton de l'appareil (relais-central device add)")->required();
  init_cmd->add_option("--territory", init->territory, "Territoire par défaut des nouveaux dossiers");
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
  sync_cmd->callback([&ctx, flags] { ctx.Finish(RunSyncCommand(ctx, *flags)); });
}

}  // namespace relais::cli
