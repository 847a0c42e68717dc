// relais-central: serves the central endpoint, enrols devices, and gives central staff their tools
// over conflicts and history (docs/SERVER.md).
// Exit codes: 0 ok, 2 usage, 3 validation, 4 not found, 1 anything else.
#include <CLI/CLI.hpp>

#include <nlohmann/json.hpp>

#include <pthread.h>
#include <signal.h>
#include <sys/resource.h>

#include <algorithm>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <mutex>
#include <thread>
#include <tuple>

#include "base/clock.h"
#include "base/hardening.h"
#include "base/text.h"
#include "pg/conn.h"
#include "schema/display.h"
#include "server/cli/output.h"
#include "server/cli/rgpd_cmd.h"
#include "server/erasure_ledger.h"
#include "server/http.h"
#include "server/person_file.h"
#include "server/retention.h"
#include "server/staff_json.h"
#include "server/store_migration.h"
#include "server/store_open.h"
#include "stats/options.h"

namespace {

using nlohmann::json;
using relais::Error;
using relais::ErrorCode;
using relais::server::OpenMode;
using relais::server::OpenStore;
using relais::central_cli::DefaultAuthor;
using relais::central_cli::Fail;
using relais::central_cli::PrintTable;

json OrNull(const std::optional<std::string>& v) { return v ? json(*v) : json(nullptr); }

std::string Join(const std::vector<std::string>& items, const char* sep) {
  std::string out;
  for (const std::string& s : items) out += (out.empty() ? "" : sep) + s;
  return out;
}

// "--db FILE" or "--store URL (without its password)": how to name this store again in a hint.
std::string StoreOption(const std::string& spec) {
  if (relais::pg::IsPostgresUrl(spec)) return "--store " + relais::server::DescribeStore(spec);
  return "--db " + spec;
}

// "HOST:PORT" (IPv6 as "[::1]:PORT"). Port 0 lets the system pick one.
bool ParseListen(const std::string& text, std::string& host, int& port) {
  size_t colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == text.size() || text.size() - colon > 6) return false;
  host = text.substr(0, colon);
  if (host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  int n = 0;
  for (char c : text.substr(colon + 1)) {
    if (c < '0' || c > '9') return false;
    n = n * 10 + (c - '0');
  }
  if (n > 65535 || host.empty()) return false;
  port = n;
  return true;
}

// CLI11's help in French: its headings and the help flag's description. Called on the app before any
// subcommand is added (subcommands take the formatter and the help flag of their parent).
void FrenchHelp(CLI::App& app) {
  app.set_help_flag("-h,--help", "Afficher cette aide et quitter");
  auto formatter = app.get_formatter();
  for (const auto& [key, label] :
       std::initializer_list<std::pair<const char*, const char*>>{{"Usage", "Usage"},
                                                                  {"OPTIONS", "OPTIONS"},
                                                                  {"SUBCOMMAND", "SOUS-COMMANDE"},
                                                                  {"SUBCOMMANDS", "SOUS-COMMANDES"},
                                                                  {"Positionals", "Arguments"},
                                                                  {"REQUIRED", "OBLIGATOIRE"},
                                                                  {"Needs", "Requiert"},
                                                                  {"Excludes", "Exclut"},
                                                                  {"TEXT", "TEXTE"},
                                                                  {"UINT", "ENTIER"},
                                                                  {"INT", "ENTIER"}}) {
    formatter->label(key, label);
  }
}

// Lists every subcommand, at every depth, under a French heading (CLI11's is "Subcommands").
void FrenchGroups(CLI::App& app) {
  for (CLI::App* sub : app.get_subcommands({})) {
    sub->group("Sous-commandes");
    FrenchGroups(*sub);
  }
}

// A command line CLI11 refused, told in French: what kind of mistake, CLI11's own detail (it names
// the option), and where to read the usage.
std::string ParseFailure(const CLI::ParseError& e) {
  const std::string kind = e.get_name();
  std::string what = "ligne de commande refusée";
  if (kind == "RequiredError")
    what = "il manque une option ou une sous-commande obligatoire";
  else if (kind == "ExtrasError")
    what = "argument en trop ou inconnu";
  else if (kind == "ExcludesError")
    what = "options incompatibles entre elles";
  else if (kind == "ConversionError" || kind == "ValidationError" || kind == "ArgumentMismatch")
    what = "valeur d'option refusée";
  else if (kind == "InvalidError" || kind == "HorribleError")
    what = "option mal écrite";
  return "relais-central : " + what + " (" + e.what() + ").\nVoir : relais-central --help (ou COMMANDE --help)\n";
}

// Whether `host` (as given to --listen) is a loopback address: only then may plain HTTP go
// unwarned.
bool IsLoopback(const std::string& host) { return host == "localhost" || host == "::1" || host.rfind("127.", 0) == 0; }

// The ledger of a store: --erasure-ledger when given, else its default (DefaultLedgerPath).
std::string LedgerOf(const std::string& db_path, const std::string& given) {
  return given.empty() ? relais::server::DefaultLedgerPath(db_path) : given;
}

// Replays the erasure ledger into `store` (a restored backup may predate erasures), saying what it
// erased again on stderr.
relais::Status ReplayErasures(relais::server::CentralStore& store, const std::string& ledger) {
  auto replayed = relais::server::ReplayLedger(store, ledger);
  if (!replayed) return replayed.error();
  for (const relais::server::Erasure& e : *replayed) {
    std::cerr << "relais-central : dossier " << e.case_id << " effacé à nouveau d'après le registre des effacements "
              << ledger << " (effacé le " << e.at << " ; la base a été restaurée d'une sauvegarde plus ancienne)"
              << std::endl;
  }
  return relais::OkStatus();
}

// One pass of the retention policy (docs/PRIVACY.md, "Retention"). Says on stderr how many cases it
// erased (never who), and what failed (the next pass tries again).
void ApplyRetention(relais::server::CentralStore& store, const std::string& ledger) {
  auto run = relais::server::RunRetention(store, relais::IsoDate(relais::SystemClock::Instance().NowMs()),
                                          /*dry_run=*/false, ledger);
  if (!run) {
    std::cerr << "relais-central : conservation : passe interrompue : " << run.error().message
              << " (nouvel essai à la prochaine passe, ou relais-central retention run)" << std::endl;
  } else if (!run->cases.empty()) {
    std::cerr << "relais-central : conservation : " << run->cases.size() << " dossier(s) clos avant le "
              << run->cutoff << " effacé(s) (reçus : relais-central erasures)" << std::endl;
  }
}

// Retention while serving: a pass every day after the one at start, on a thread of its own, until
// Stop().
class RetentionKeeper {
 public:
  RetentionKeeper(relais::server::CentralStore& store, std::string ledger)
      : store_(store), ledger_(std::move(ledger)), thread_([this] { Run(); }) {}
  ~RetentionKeeper() { Stop(); }
  RetentionKeeper(const RetentionKeeper&) = delete;
  RetentionKeeper& operator=(const RetentionKeeper&) = delete;

  void Stop() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_all();
    if (thread_.joinable()) thread_.join();
  }

 private:
  void Run() {
    std::unique_lock<std::mutex> lock(mutex_);
    while (!wake_.wait_for(lock, std::chrono::hours(24), [this] { return stopping_; })) {
      lock.unlock();
      ApplyRetention(store_, ledger_);
      lock.lock();
    }
  }

  relais::server::CentralStore& store_;
  const std::string ledger_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;  // last: it starts once the members above exist
};

int Serve(const std::string& db_path, const std::string& listen, relais::server::HttpOptions options,
          const std::string& ledger) {
  std::string host;
  int port = 0;
  if (!ParseListen(listen, host, port)) {
    return Fail(relais::MakeError(ErrorCode::kUsage,
                                  "--listen " + listen + " : attendu HÔTE:PORT, par exemple 127.0.0.1:8080"));
  }
  // SIGINT and SIGTERM are taken by one thread that stops the server, SIGHUP by the same thread,
  // which reads the TLS certificate again: blocked here, before any other thread exists, so that
  // every thread inherits the mask.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  signal(SIGPIPE, SIG_IGN);
  // One descriptor per connection: the front holds up to max_connections of them (epoll has no
  // FD_SETSIZE limit), within what the system allows this process.
  rlimit files{};
  if (getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur < files.rlim_max) {
    files.rlim_cur = std::min<rlim_t>(files.rlim_max, options.front.max_connections + 256);
    setrlimit(RLIMIT_NOFILE, &files);
  }

  auto store = OpenStore(db_path, OpenMode::kCreate);
  if (!store) return Fail(store.error());
  // Before any device is served: no person erased comes back from a restored backup.
  if (auto replayed = ReplayErasures(**store, ledger); !replayed) return Fail(replayed.error());
  options.erasure_ledger = ledger;
  relais::server::HttpEndpoint endpoint(**store, options);
  auto bound = endpoint.Bind(host, port);
  if (!bound) return Fail(bound.error());

  std::thread signal_taker([&] {
    for (;;) {
      int sig = 0;
      sigwait(&signals, &sig);
      if (sig != SIGHUP) break;
      if (!endpoint.Tls()) {
        std::cerr << "relais-central : SIGHUP reçu ; sans --tls-cert, rien à relire" << std::endl;
        continue;
      }
      if (auto reloaded = endpoint.ReloadTls(); !reloaded) {
        std::cerr << "relais-central : certificat TLS non rechargé, l'ancien reste en service : "
                  << reloaded.error().message << std::endl;
      } else {
        std::cerr << "relais-central : certificat TLS rechargé" << std::endl;
      }
    }
    endpoint.Stop();
  });
  ApplyRetention(**store, ledger);  // before any device is served, like the ledger's replay
  RetentionKeeper retention(**store, ledger);
  std::string shown_host = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  std::cout << "listening on " << (endpoint.Tls() ? "https://" : "http://") << shown_host << ":" << *bound << std::endl;
  if (!endpoint.Tls() && !IsLoopback(host)) {
    std::cerr << "relais-central : ATTENTION : HTTP en clair sur " << shown_host
              << ", une adresse du réseau : jetons et fiches y passeraient lisibles. Servez en HTTPS "
                 "(--tls-cert et --tls-key) ou derrière un mandataire inverse HTTPS (nginx, Caddy) : "
                 "voir docs/SERVER.md, « Deployment »."
              << std::endl;
  }
  std::cerr << "relais-central : sert " << relais::server::DescribeStore(db_path) << " (arrêt : Ctrl-C)" << std::endl;
  auto served = endpoint.Serve();
  // Wakes the taker if Serve() ended by itself: it waits for SIGTERM in sigwait(), which this
  // answers; no thread is killed.
  pthread_kill(signal_taker.native_handle(), SIGTERM);  // NOLINT(bugprone-bad-signal-to-kill-thread)
  signal_taker.join();
  retention.Stop();
  if (!served) return Fail(served.error());
  std::cerr << "relais-central : arrêté" << std::endl;
  return 0;
}

int DeviceAdd(const std::string& db_path, const std::string& name, const std::vector<std::string>& territories,
              bool staff, bool as_json) {
  auto store = OpenStore(db_path, OpenMode::kCreate);
  if (!store) return Fail(store.error());
  auto role = staff ? relais::server::Role::kStaff : relais::server::Role::kDevice;
  auto before = (*store)->GetNetwork();
  if (!before) return Fail(before.error());
  auto token = (*store)->AddDevice(name, territories, role);
  if (!token) return Fail(token.error());
  for (const std::string& t : territories) {
    if (before->Find(t)) continue;
    std::cerr << "relais-central : territoire « " << t << " » déclaré par cet enrôlement (libellé : " << t
              << ") ; donnez-lui son libellé : relais-central territory rename " << t << " --label LIBELLÉ\n";
  }
  std::vector<std::string> sorted = territories;
  std::sort(sorted.begin(), sorted.end());
  sorted.erase(std::unique(sorted.begin(), sorted.end()), sorted.end());
  if (as_json) {
    std::cout << json{{"name", name},
                      {"role", relais::server::ToString(role)},
                      {"territories", sorted},
                      {"token", *token}}
                     .dump()
              << std::endl;
    return 0;
  }
  std::cout << "Appareil « " << name << " » enrôlé (" << relais::server::ToString(role)
            << ") pour : " << Join(sorted, ", ") << ".\n\n"
            << "Jeton d'accès :\n\n  " << *token << "\n\n"
            << "Ce jeton n'est affiché qu'une seule fois : le serveur n'en garde qu'une empreinte.\n"
            << "Transmettez-le à l'appareil par un canal sûr, puis sur l'appareil :\n"
            << "  relais init --server URL --token " << *token << "\n"
            << "En cas de perte : relais-central device revoke " << name
            << ", puis enrôlez-le à nouveau sous un autre nom.\n";
  return 0;
}

// Where a device stands, for `device list`: its code (JSON `state`) and how staff read it.
struct DeviceState {
  const char* code;
  std::string text;
};

DeviceState StateOf(const relais::server::DeviceInfo& d) {
  if (d.wipe_delivered_at) return {"wipe_delivered", "effacement transmis le " + *d.wipe_delivered_at};
  if (d.wipe_ordered_at) return {"wipe_pending", "effacement ordonné le " + *d.wipe_ordered_at + ", pas encore transmis"};
  if (d.revoked_at) return {"revoked", "révoqué le " + *d.revoked_at};
  return {"active", "actif"};
}

// "3 (2026-12-06T14:20:00Z)", or "-" when the device never reported its pending changes.
std::string PendingText(const relais::server::DeviceInfo& d) {
  if (!d.pending_changes) return "-";
  return std::to_string(*d.pending_changes) + " (" + d.pending_reported_at.value_or("?") + ")";
}

int DeviceList(const std::string& db_path, bool as_json) {
  auto store = OpenStore(db_path, OpenMode::kExisting);
  if (!store) return Fail(store.error());
  auto devices = (*store)->ListDevices();
  if (!devices) return Fail(devices.error());
  if (as_json) {
    json out = json::array();
    for (const auto& d : *devices) {
      out.push_back({{"name", d.name},
                     {"role", relais::server::ToString(d.role)},
                     {"territories", d.territories},
                     {"created_at", d.created_at},
                     {"last_seen_at", OrNull(d.last_seen_at)},
                     {"revoked_at", OrNull(d.revoked_at)},
                     {"state", StateOf(d).code},
                     {"wipe_ordered_at", OrNull(d.wipe_ordered_at)},
                     {"wipe_delivered_at", OrNull(d.wipe_delivered_at)},
                     {"pending_changes", d.pending_changes ? json(*d.pending_changes) : json(nullptr)},
                     {"pending_reported_at", OrNull(d.pending_reported_at)}});
    }
    std::cout << out.dump(2) << std::endl;
    return 0;
  }
  if (devices->empty()) {
    std::cout << "Aucun appareil enrôlé. Enrôler : relais-central device add " << StoreOption(db_path)
              << " --name NOM --territory TERRITOIRE\n";
    return 0;
  }
  std::vector<std::vector<std::string>> rows = {
      {"APPAREIL", "RÔLE", "TERRITOIRES", "CRÉÉ LE", "VU LE", "ÉTAT", "EN ATTENTE (SIGNALÉ LE)"}};
  for (const auto& d : *devices) {
    rows.push_back({d.name, relais::server::ToString(d.role), Join(d.territories, ","), d.created_at,
                    d.last_seen_at.value_or("-"), StateOf(d).text, PendingText(d)});
  }
  PrintTable(rows);
  return 0;
}

struct RevokeOptions {
  std::string name;
  bool wipe = false;
  bool yes = false;  // no question: scripts
  bool json = false;
};

// What a wipe would erase that the centre never got, as the device last said it, for staff to read
// before they confirm.
std::string WipeWarning(const relais::server::DeviceInfo& d) {
  std::string out = "Attention : à sa prochaine connexion, l'appareil « " + d.name +
                    " » effacera sa base locale, y compris les saisies qu'il n'a pas encore envoyées au centre.\n";
  if (d.pending_changes) {
    out += "Il a signalé " + std::to_string(*d.pending_changes) +
           " modification(s) non acceptée(s) par le centre (en attente d'envoi ou refusées) le " +
           d.pending_reported_at.value_or("?") + " : elles seront perdues.\n";
  } else {
    out +=
        "Il n'a jamais signalé ses modifications en attente (Relais trop ancien, ou jamais synchronisé) : "
        "il peut en avoir, elles seraient perdues.\n";
  }
  return out;
}

int DeviceRevoke(const std::string& db_path, const RevokeOptions& o) {
  auto store = OpenStore(db_path, OpenMode::kExisting);
  if (!store) return Fail(store.error());
  auto devices = (*store)->ListDevices();
  if (!devices) return Fail(devices.error());
  auto found = std::find_if(devices->begin(), devices->end(),
                            [&](const relais::server::DeviceInfo& d) { return d.name == o.name; });
  if (found == devices->end()) {
    return Fail(relais::MakeError(ErrorCode::kNotFound,
                                  "aucun appareil nommé " + o.name + " (voir `relais-central device list`)"));
  }
  if (o.wipe && found->role == relais::server::Role::kStaff) {
    return Fail(relais::MakeError(ErrorCode::kUsage, "« " + o.name +
                                                         " » est un jeton du personnel : il n'a pas de base locale à "
                                                         "effacer ; révoquez-le sans --wipe"));
  }
  if (o.wipe && !o.yes) {
    std::cerr << WipeWarning(*found) << "Confirmer l'effacement ? Tapez « oui » pour confirmer : " << std::flush;
    std::string answer;
    std::getline(std::cin, answer);
    if (answer != "oui") {
      std::cerr << "Rien n'a été fait : l'appareil « " << o.name << " » n'est pas révoqué par cette commande.\n";
      return 1;
    }
  }
  auto revoked = (*store)->RevokeDevice(o.name, o.wipe);
  if (!revoked) return Fail(revoked.error());
  if (o.json) {
    std::cout << json{{"name", o.name},
                      {"wipe", o.wipe},
                      {"pending_changes", found->pending_changes ? json(*found->pending_changes) : json(nullptr)},
                      {"pending_reported_at", OrNull(found->pending_reported_at)}}
                     .dump()
              << std::endl;
    return 0;
  }
  std::cout << "Appareil « " << o.name << " » révoqué : son jeton est désormais refusé (401).\n";
  if (o.wipe) {
    std::cout << "À sa prochaine connexion au centre, il effacera sa base locale ; relais-central device list "
                 "dira quand l'ordre lui a été transmis.\n";
  } else if (found->wipe_ordered_at) {
    std::cout << "L'ordre d'effacement donné le " << *found->wipe_ordered_at << " reste en vigueur.\n";
  } else {
    std::cout << "Il garde sa base locale et ses saisies en attente ; un nouveau jeton (device add) lui permettra "
                 "de les envoyer.\n";
  }
  return 0;
}

std::string Shown(const std::optional<std::string>& v) { return v ? *v : "(vide)"; }

// At most `max` code points of one line, for table cells.
std::string Cell(const std::optional<std::string>& v, size_t max = 32) {
  std::string text = Shown(v);
  for (char& c : text) {
    if (c == '\n' || c == '\r' || c == '\t') c = ' ';
  }
  if (relais::Utf8Length(text) <= max) return text;
  size_t points = 0, i = 0;
  for (; i < text.size(); ++i) {
    if ((static_cast<unsigned char>(text[i]) & 0xC0) != 0x80 && points++ == max - 1) break;
  }
  return text.substr(0, i) + "…";
}

std::string JsonText(const json& v) {
  if (v.is_null()) return "(vide)";
  return v.is_string() ? v.get<std::string>() : v.dump();
}

// A value of `field` of table `table` as staff read it: an enumeration's words ("salarié" for
// salarie), "(vide)" for null (schema/display.h). An unknown table or field shows the value as is.
std::string Words(std::string_view table, std::string_view field, const std::optional<std::string>& v) {
  const relais::schema::Table* t = relais::schema::FindTable(table);
  return relais::schema::DisplayValue(t ? t->FindField(field) : nullptr, v);
}

std::string Words(std::string_view table, std::string_view field, const json& v) {
  if (!v.is_string()) return JsonText(v);
  return Words(table, field, std::optional<std::string>(v.get<std::string>()));
}

const char* SettlementLabel(const std::string& settlement) {
  if (settlement == "server") return "valeur du centre conservée";
  if (settlement == "device") return "valeur de l'appareil retenue";
  if (settlement == "value") return "autre valeur écrite";
  if (settlement == "merged") return "fiches fusionnées";
  if (settlement == "dismissed") return "doublon écarté";
  return "?";
}

// What changed from one snapshot to the next, one line per field: "phone : 0611… → 0622…".
std::vector<std::string> Differences(std::string_view table, const json& before, const json& after) {
  std::vector<std::string> lines;
  std::vector<std::string> keys;
  for (auto it = after.begin(); it != after.end(); ++it) keys.push_back(it.key());
  for (auto it = before.begin(); it != before.end(); ++it) {
    if (!after.contains(it.key())) keys.push_back(it.key());
  }
  for (const std::string& k : keys) {
    json old_value = before.contains(k) ? before[k] : json(nullptr);
    json new_value = after.contains(k) ? after[k] : json(nullptr);
    if (old_value != new_value)
      lines.push_back(k + " : " + Words(table, k, old_value) + " → " + Words(table, k, new_value));
  }
  return lines;
}

// Every version of a record with what changed, the values that lost a last-writer-wins comparison,
// and the values held for review by the conflicts opened at that version.
void PrintHistory(const std::vector<relais::server::HistoryEntry>& history,
                  const std::vector<relais::server::Conflict>& conflicts, const std::string& indent) {
  json previous = json::object();
  for (const auto& h : history) {
    json values = json::parse(h.snapshot, nullptr, false);
    if (!values.is_object()) values = json::object();
    std::cout << indent << "version " << h.seq << "  " << h.at << "  par " << h.device << "  (hlc " << h.hlc << ")\n";
    if (previous.empty()) {
      std::vector<std::string> set;
      for (auto it = values.begin(); it != values.end(); ++it)
        set.push_back(it.key() + "=" + Words(h.table, it.key(), it.value()));
      std::cout << indent << "  création : " << Join(set, ", ") << "\n";
    } else {
      auto changes = Differences(h.table, previous, values);
      if (changes.empty()) std::cout << indent << "  (aucune valeur changée)\n";
      for (const std::string& line : changes) std::cout << indent << "  " << line << "\n";
      if (h.table == "cases" &&
          previous.value("territory", json(nullptr)) != values.value("territory", json(nullptr))) {
        std::cout << indent << "  transfert : de " << JsonText(previous.value("territory", json(nullptr))) << " vers "
                  << JsonText(values.value("territory", json(nullptr))) << "\n";
      }
    }
    if (h.lost) {
      json lost = json::parse(*h.lost, nullptr, false);
      for (auto it = lost.begin(); lost.is_object() && it != lost.end(); ++it) {
        std::cout << indent << "  valeur écartée : " << it.key() << " = "
                  << Words(h.table, it.key(), it.value()["value"]) << " (par " << JsonText(it.value()["device"])
                  << ", hlc " << JsonText(it.value()["hlc"]) << ")\n";
      }
    }
    for (const auto& c : conflicts) {
      if (c.opened_seq != h.seq || c.record_id != h.record_id) continue;
      if (c.kind == "duplicate") {
        std::cout << indent << "  doublon probable de " << c.other_id.value_or("?") << " (conflit " << c.id << ")\n";
      } else {
        std::cout << indent << "  valeur tenue pour arbitrage : " << c.field.value_or("?") << " = "
                  << Words(c.table, c.field.value_or(""), c.device_value) << " (par " << c.device << ", conflit "
                  << c.id << ")\n";
        if (c.table == "cases" && c.field == "territory" && c.status == "open") {
          std::cout << indent << "  transfert en attente d'approbation : relais-central conflicts resolve " << c.id
                    << " --keep device l'approuve, --keep server le refuse\n";
        }
      }
    }
    previous = std::move(values);
  }
}

std::vector<std::string> ConflictRow(const relais::server::Conflict& c) {
  std::string what = c.kind == "duplicate" ? "doublon de " + c.other_id.value_or("?") : c.field.value_or("-");
  const std::string field = c.field.value_or("");
  std::string held =
      c.kind == "duplicate" ? "-" : Cell(Words(c.table, field, c.device_value), 24) + " (" + c.device + ")";
  std::string kept =
      c.kind == "duplicate" ? "-" : Cell(Words(c.table, field, c.server_value), 24) + " (" + c.server_device + ")";
  std::string status =
      c.status == "open" ? "ouvert" : std::string("réglé : ") + SettlementLabel(c.settlement.value_or(""));
  return {std::to_string(c.id),
          c.kind == "duplicate" ? "doublon" : "champ",
          status,
          c.table + " " + c.record_id,
          what,
          c.territory.value_or("-"),
          kept,
          held,
          c.opened_at};
}

std::string EpochText(const relais::server::CentreIdentity& c) {
  return "centre " + c.store_id + ", époque " + std::to_string(c.epoch) + " (commencée à la séquence " +
         std::to_string(c.epoch_seq) + ")";
}

// `relais-central restored`: the store was put back from a backup by other means (pg_restore, a
// file copy): a new epoch begins, and every device pushes back what the backup lacks.
int Restored(const std::string& db_path, const std::string& ledger) {
  auto store = OpenStore(db_path, OpenMode::kExisting);
  if (!store) return Fail(store.error());
  if (auto replayed = ReplayErasures(**store, ledger); !replayed) return Fail(replayed.error());
  auto identity = (*store)->BeginEpoch(std::nullopt);
  if (!identity) return Fail(identity.error());
  std::cout << "Restauration notée : " << EpochText(*identity) << ".\n"
            << "À leur prochaine synchronisation, les appareils renverront ce que la sauvegarde n'a pas ; "
            << "voir relais-central recovered.\n";
  return 0;
}

// `relais-central restore BACKUP`: an SQLite store put back from a copy of its file, then a new
// epoch begun, in one command. The backup must be a copy of this centre's store (same store id).
int Restore(const std::string& db_path, const std::string& backup) {
  namespace fs = std::filesystem;
  if (relais::pg::IsPostgresUrl(db_path)) {
    return Fail(relais::MakeError(ErrorCode::kUsage,
                                  "restore copie un fichier SQLite ; pour PostgreSQL, restaurez la base avec "
                                  "pg_restore, puis lancez relais-central restored --store URL"));
  }
  std::string backup_id;
  {
    auto from = OpenStore(backup, OpenMode::kExisting);
    if (!from) return Fail(relais::MakeError(from.error().code, backup + " : " + from.error().message));
    auto identity = (*from)->Identity();
    if (!identity) return Fail(identity.error());
    backup_id = identity->store_id;
  }
  std::error_code ec;
  if (fs::exists(db_path, ec)) {
    auto current = OpenStore(db_path, OpenMode::kExisting);
    if (!current) return Fail(current.error());
    auto identity = (*current)->Identity();
    if (!identity) return Fail(identity.error());
    if (identity->store_id != backup_id) {
      return Fail(relais::MakeError(ErrorCode::kConflict, backup + " est la sauvegarde d'un autre centre (" +
                                                              backup_id + ", celui-ci est " + identity->store_id +
                                                              ") : rien n'a été changé"));
    }
  }
  const std::string staged = db_path + ".restoring";
  fs::copy_file(backup, staged, fs::copy_options::overwrite_existing, ec);
  if (ec) return Fail(relais::MakeError(ErrorCode::kIo, "copie de " + backup + " impossible : " + ec.message()));
  fs::permissions(staged, fs::perms::owner_read | fs::perms::owner_write, ec);
  for (const char* suffix : {"-wal", "-shm"}) fs::remove(db_path + suffix, ec);
  fs::rename(staged, db_path, ec);
  if (ec)
    return Fail(relais::MakeError(ErrorCode::kIo, "remplacement de " + db_path + " impossible : " + ec.message()));
  return Restored(db_path, relais::server::DefaultLedgerPath(db_path));
}

// `relais-central recovered`: what devices pushed back after restores, latest first.
int Recovered(const std::string& db_path, size_t limit, bool as_json) {
  auto store = OpenStore(db_path, OpenMode::kExisting);
  if (!store) return Fail(store.error());
  auto notes = (*store)->Recoveries(limit);
  if (!notes) return Fail(notes.error());
  if (as_json) {
    json out = json::array();
    for (const auto& n : *notes) {
      out.push_back({{"at", n.at},
                     {"device", n.device},
                     {"epoch", n.epoch},
                     {"table", n.record.table},
                     {"record", n.record.record_id},
                     {"op", n.record.op},
                     {"lost_version", n.record.version > 0 ? json(n.record.version) : json(nullptr)},
                     {"applied_version", n.applied_seq ? json(*n.applied_seq) : json(nullptr)}});
    }
    std::cout << out.dump(2) << std::endl;
    return 0;
  }
  if (notes->empty()) {
    std::cout << "Aucune fiche récupérée : aucun appareil n'a eu à renvoyer ce qu'une sauvegarde avait perdu.\n";
    return 0;
  }
  std::vector<std::vector<std::string>> rows = {{"LE", "APPAREIL", "ÉPOQUE", "TABLE", "FICHE", "RÉCUPÉRÉ"}};
  for (const auto& n : *notes) {
    rows.push_back({n.at, n.device, std::to_string(n.epoch), n.record.table, n.record.record_id,
                    n.record.op == "create" ? "la fiche entière" : "sa dernière version"});
  }
  PrintTable(rows);
  std::cout << notes->size() << " fiche(s) renvoyée(s) par les appareils après une restauration ; "
            << "leur historique : relais-central history FICHE\n";
  return 0;
}

json ErasureJson(const relais::server::Erasure& e) {
  return {{"case", e.case_id}, {"at", e.at},           {"by", e.by},           {"reason", e.reason},
          {"seq", e.seq},      {"records", e.records}, {"source", e.source}};
}

// `relais-central person erase CASE_ID --reason TEXT`: the person erased everywhere (server/erasure.h).
int PersonErase(const std::string& db_path, const std::string& case_id, const std::string& reason, std::string by,
                const std::string& ledger, bool as_json) {
  if (by.empty()) by = DefaultAuthor();
  if (reason.find_first_not_of(" \t\r\n") == std::string::npos) {
    return Fail(relais::MakeError(ErrorCode::kValidation, "--reason : dites pourquoi le dossier est effacé"));
  }
  auto store = OpenStore(db_path, OpenMode::kExisting);
  if (!store) return Fail(store.error());
  // Journaled outside the store first: should the store be restored from an older backup, the
  // erasure is replayed (a line for an erasure that then failed is replayed, as asked, later).
  if (ledger.empty()) {
    std::cerr << "relais-central : attention : sans --erasure-ledger, une sauvegarde de cette base restaurée plus "
                 "tard ramènerait ce dossier (docs/PRIVACY.md)\n";
  } else {
    auto kept = (*store)->Locate(case_id);
    if (!kept && kept.error().code != ErrorCode::kNotFound) return Fail(kept.error());
    // A case the store holds: anything else gets its error from the erasure, and no line.
    if (kept && kept->table == relais::schema::CasesTable().name) {
      if (auto journaled = relais::server::AppendToLedger(
              ledger, {relais::IsoTimestamp(relais::SystemClock::Instance().NowMs()), by, case_id});
          !journaled) {
        return Fail(journaled.error());
      }
    }
  }
  auto erased = (*store)->ErasePerson(case_id, reason, by, "staff");
  if (!erased) return Fail(erased.error());
  if (as_json) {
    json out = ErasureJson(*erased);
    out["ledger"] = ledger.empty() ? json(nullptr) : json(ledger);
    out["wal_truncated"] = erased->wal_truncated;
    std::cout << out.dump(2) << std::endl;
    return 0;
  }
  std::cout << "Dossier " << case_id << " effacé : " << erased->records
            << " fiche(s) (le dossier et ce qui lui est rattaché) ; son historique ne garde que les faits codés "
               "(territoire, statut, dates…).\n"
            << "Chaque appareil qui le détient l'effacera à sa prochaine synchronisation.\n"
            << "Reçu : relais-central erasures\n";
  return 0;
}

// `relais-central erasures`: the receipts, oldest first.
int ErasuresList(const std::string& db_path, bool as_json) {
  auto store = OpenStore(db_path, OpenMode::kExisting);
  if (!store) return Fail(store.error());
  auto list = (*store)->Erasures();
  if (!list) return Fail(list.error());
  if (as_json) {
    json out = json::array();
    for (const auto& e : *list) out.push_back(ErasureJson(e));
    std::cout << out.dump(2) << std::endl;
    return 0;
  }
  if (list->empty()) {
    std::cout << "Aucun effacement.\n";
    return 0;
  }
  std::vector<std::vector<std::string>> rows = {{"LE", "DOSSIER", "PAR", "FICHES", "ORIGINE", "MOTIF"}};
  for (const auto& e : *list) {
    rows.push_back({e.at, e.case_id, e.by, std::to_string(e.records),
                    e.source == "ledger" ? "registre (rejoué)" : "personnel", e.reason});
  }
  PrintTable(rows);
  std::cout << list->size() << " effacement(s)\n";
  return 0;
}

int History(const std::string& db_path, const std::string& record_id, bool as_json) {
  auto store = OpenStore(db_path, OpenMode::kExisting);
  if (!store) return Fail(store.error());
  auto history = (*store)->History("", record_id);
  if (!history) return Fail(history.error());
  if (history->empty()) {
    return Fail(relais::MakeError(ErrorCode::kNotFound, "aucun historique pour la fiche " + record_id +
                                                            " (vérifiez l'identifiant : c'est l'UUID de la fiche)"));
  }
  if (auto noted = (*store)->NoteStaffRead(DefaultAuthor(), "historique", history->front().table, record_id); !noted) {
    return Fail(noted.error());
  }
  if (as_json) {
    std::cout << relais::server::HistoryJson(*history).dump(2) << std::endl;
    return 0;
  }
  std::cout << "Historique de " << history->front().table << " " << record_id << " (" << history->size() << " version"
            << (history->size() > 1 ? "s" : "") << ")\n\n";
  relais::server::ConflictFilter query;
  query.status.reset();
  query.record_id = record_id;
  auto conflicts = (*store)->Conflicts(query);
  if (!conflicts) return Fail(conflicts.error());
  PrintHistory(*history, *conflicts, "");
  if (!conflicts->empty()) {
    std::cout << "\nConflits sur cette fiche (valeurs tenues pour arbitrage) :\n";
    std::vector<std::vector<std::string>> rows = {
        {"N°", "TYPE", "STATUT", "FICHE", "CHAMP", "TERRITOIRE", "VALEUR CENTRE", "VALEUR APPAREIL", "OUVERT LE"}};
    for (const auto& c : *conflicts) rows.push_back(ConflictRow(c));
    PrintTable(rows);
  }
  return 0;
}

// Everything the centre holds about the person of case `case_id`, as JSON or a French HTML page,
// to `output` (0600, as every file this program writes) or standard output.
int PersonExport(const std::string& db_path, const std::string& case_id, const std::string& format,
                 const std::string& output) {
  auto store = OpenStore(db_path, OpenMode::kExisting);
  if (!store) return Fail(store.error());
  auto file = relais::server::PersonFileJson(**store, case_id, relais::IsoTimestamp(relais::SystemClock().NowMs()));
  if (!file) return Fail(file.error());
  if (auto noted = (*store)->NoteStaffRead(DefaultAuthor(), "export-personne", "cases", case_id); !noted) {
    return Fail(noted.error());
  }
  const std::string text = format == "html" ? relais::server::PersonFileHtml(*file) : file->dump(2) + "\n";
  if (output.empty()) {
    std::cout << text;
    return 0;
  }
  std::ofstream out(output, std::ios::binary | std::ios::trunc);
  out << text;
  out.close();
  if (!out) {
    return Fail(relais::MakeError(ErrorCode::kIo, "impossible d'écrire " + output +
                                                      " : vérifiez le dossier et la place disque"));
  }
  size_t related = 0;
  for (const auto& [table, records] : (*file)["related"].items()) related += records.size();
  std::cerr << "Fichier écrit : " << output << " (" << (*file)["versions"].size() << " version(s) du dossier, "
            << related << " fiche(s) liée(s), " << (*file)["conflicts"].size()
            << " conflit(s)). Il contient des données personnelles : remettez-le à la personne, puis supprimez-le.\n";
  return 0;
}

// The permanences the centre holds, every territory, with their bookings and overbooked slots.
int PermanencesList(const std::string& db_path, bool as_json) {
  auto store = OpenStore(db_path, OpenMode::kExisting);
  if (!store) return Fail(store.error());
  const relais::schema::Table& pt = *relais::schema::FindTable("permanences");
  const relais::schema::Table& at = *relais::schema::FindTable("appointments");
  const relais::schema::Table& contacts = relais::schema::ContactsTable();
  auto permanences = (*store)->Records(pt, 0);
  if (!permanences) return Fail(permanences.error());
  auto appointments = (*store)->Records(at, 0);
  if (!appointments) return Fail(appointments.error());
  auto directory = (*store)->Records(contacts, 0);
  if (!directory) return Fail(directory.error());
  auto value = [](const relais::schema::Table& t, const relais::schema::Record& r, std::string_view field) {
    return r.values[static_cast<size_t>(t.FieldIndex(field))].value_or("");
  };
  std::map<std::string, std::string> names;
  for (const auto& c : *directory) names[c.id] = value(contacts, c, "organisation");
  // Bookings per permanence, and the slots (date, time) more than one booking holds.
  std::map<std::string, std::map<std::pair<std::string, std::string>, int>> slots;
  for (const auto& a : *appointments) {
    const std::string permanence = value(at, a, "permanence_id");
    if (!permanence.empty()) ++slots[permanence][{value(at, a, "date"), value(at, a, "start_time")}];
  }
  std::sort(permanences->begin(), permanences->end(), [&](const auto& a, const auto& b) {
    return std::make_tuple(value(pt, a, "territory"), value(pt, a, "reception_point"), a.id) <
           std::make_tuple(value(pt, b, "territory"), value(pt, b, "reception_point"), b.id);
  });
  json out = json::array();
  std::vector<std::vector<std::string>> rows = {{"PERMANENCE", "TERRITOIRE", "POINT D'ACCUEIL", "ORGANISME", "JOUR",
                                                 "HORAIRES", "SEMAINES", "DU", "AU", "RENDEZ-VOUS", "SURRÉSERVÉS"}};
  for (const auto& p : *permanences) {
    int bookings = 0, overbooked = 0;
    for (const auto& [slot, count] : slots[p.id]) {
      bookings += count;
      if (count > 1) ++overbooked;
    }
    const std::string organisation = value(pt, p, "organisation");
    const std::string name = names.count(organisation) ? names[organisation] : organisation;
    if (as_json) {
      json item = {{"id", p.id}, {"version", p.version}};
      for (const auto& f : pt.fields) {
        const auto& v = p.values[static_cast<size_t>(pt.FieldIndex(f.name))];
        item[std::string(f.name)] = v ? json(*v) : json(nullptr);
      }
      item["organisation_name"] = name;
      item["appointments"] = bookings;
      item["overbooked_slots"] = overbooked;
      out.push_back(std::move(item));
      continue;
    }
    rows.push_back({p.id, value(pt, p, "territory"), value(pt, p, "reception_point"), name, value(pt, p, "weekday"),
                    value(pt, p, "start_time") + "–" + value(pt, p, "end_time"), value(pt, p, "every_weeks"),
                    value(pt, p, "valid_from"), value(pt, p, "valid_until").empty() ? "-" : value(pt, p, "valid_until"),
                    std::to_string(bookings), std::to_string(overbooked)});
  }
  if (as_json) {
    std::cout << out.dump(2) << std::endl;
    return 0;
  }
  if (permanences->empty()) {
    std::cout << "Aucune permanence.\n";
    return 0;
  }
  PrintTable(rows);
  std::cout << "\n" << permanences->size() << " permanence(s).\n";
  return 0;
}

// The referrals the centre holds (docs/SERVER.md, "Central staff's tools"): with the person's name and
// territory (the case's), the partner's organisation, and whether each is overdue — due before
// today (local date) while the partner's work is not over (envoyee, acceptee). By territory, due
// date (none last), id.
int ReferralsList(const std::string& db_path, bool overdue_only, const std::string& territory, bool as_json) {
  auto store = OpenStore(db_path, OpenMode::kExisting);
  if (!store) return Fail(store.error());
  const relais::schema::Table& rt = relais::schema::ReferralsTable();
  const relais::schema::Table& cases = relais::schema::CasesTable();
  const relais::schema::Table& contacts = relais::schema::ContactsTable();
  auto referrals = (*store)->Records(rt, 0);
  if (!referrals) return Fail(referrals.error());
  auto value = [](const relais::schema::Table& t, const relais::schema::Record& r, std::string_view field) {
    return r.values[static_cast<size_t>(t.FieldIndex(field))].value_or("");
  };
  std::map<std::string, std::pair<std::string, std::string>> people;  // case id → (territory, name)
  std::map<std::string, std::string> organisations;
  if (!referrals->empty()) {
    auto held = (*store)->Records(cases, 0);
    if (!held) return Fail(held.error());
    for (const auto& c : *held) {
      people[c.id] = {value(cases, c, "territory"), value(cases, c, "last_name") + " " + value(cases, c, "first_name")};
    }
    auto directory = (*store)->Records(contacts, 0);
    if (!directory) return Fail(directory.error());
    for (const auto& c : *directory) organisations[c.id] = value(contacts, c, "organisation");
  }
  char today[11] = "";
  const std::time_t now = std::time(nullptr);
  std::tm local{};
  localtime_r(&now, &local);
  std::strftime(today, sizeof today, "%Y-%m-%d", &local);
  struct Row {
    const relais::schema::Record* referral;
    std::string territory, name, organisation;
    bool overdue;
  };
  std::vector<Row> shown;
  for (const auto& r : *referrals) {
    const std::string status = value(rt, r, "status"), due = value(rt, r, "due_on");
    const bool overdue = (status == "envoyee" || status == "acceptee") && !due.empty() && due < today;
    const auto& person = people[value(rt, r, "case_id")];
    if (overdue_only && !overdue) continue;
    if (!territory.empty() && person.first != territory) continue;
    const std::string organisation = value(rt, r, "organisation");
    shown.push_back({&r, person.first, person.second,
                     organisations.count(organisation) ? organisations[organisation] : organisation, overdue});
  }
  std::sort(shown.begin(), shown.end(), [&](const Row& a, const Row& b) {
    const std::string da = value(rt, *a.referral, "due_on"), db = value(rt, *b.referral, "due_on");
    return std::make_tuple(a.territory, da.empty(), da, a.referral->id) <
           std::make_tuple(b.territory, db.empty(), db, b.referral->id);
  });
  if (as_json) {
    json out = json::array();
    for (const Row& row : shown) {
      json item = {{"id", row.referral->id}, {"version", row.referral->version}};
      for (const auto& f : rt.fields) {
        const auto& v = row.referral->values[static_cast<size_t>(rt.FieldIndex(f.name))];
        item[std::string(f.name)] = v ? json(*v) : json(nullptr);
      }
      item["territory"] = row.territory;
      item["case_name"] = row.name;
      item["organisation_name"] = row.organisation;
      item["overdue"] = row.overdue;
      out.push_back(std::move(item));
    }
    std::cout << out.dump(2) << std::endl;
    return 0;
  }
  if (shown.empty()) {
    std::cout << (overdue_only ? "Aucune orientation en retard.\n" : "Aucune orientation.\n");
    return 0;
  }
  std::vector<std::vector<std::string>> rows = {
      {"ORIENTATION", "TERRITOIRE", "PERSONNE", "ORGANISME", "PRESTATION", "ÉTAT", "ENVOYÉE LE", "ÉCHÉANCE", "ALERTE"}};
  for (const Row& row : shown) {
    const auto& r = *row.referral;
    rows.push_back({r.id, row.territory, row.name, row.organisation,
                    relais::schema::DisplayValue(rt.FindField("service"), value(rt, r, "service")),
                    relais::schema::DisplayValue(rt.FindField("status"), value(rt, r, "status")),
                    value(rt, r, "sent_on"), value(rt, r, "due_on").empty() ? "-" : value(rt, r, "due_on"),
                    row.overdue ? "EN RETARD" : ""});
  }
  PrintTable(rows);
  std::cout << "\n" << shown.size() << " orientation(s).\n";
  return 0;
}

// `stats`: the engine of stats/ over the whole store, or one territory (docs/STATISTICS.md).
int Stats(const std::string& db_path, const relais::stats::Options& options) {
  const std::string today = relais::IsoDate(relais::SystemClock::Instance().NowMs());
  auto query = relais::stats::QueryFrom(options, today, "tout le réseau (base centrale)");
  if (!query) return Fail(query.error());
  auto store = OpenStore(db_path, OpenMode::kExisting);
  if (!store) return Fail(store.error());
  auto table = (*store)->Stats(*query);
  if (!table) return Fail(table.error());
  std::cout << relais::stats::Render(*table, options) << std::flush;
  return 0;
}

int Report(const std::string& db_path, const relais::stats::ReportOptions& options) {
  auto store = OpenStore(db_path, OpenMode::kExisting);
  if (!store) return Fail(store.error());
  relais::server::CentralStore& central = **store;
  auto written = relais::stats::MakeReport(options, relais::IsoDate(relais::SystemClock::Instance().NowMs()),
                                           "tout le réseau (base centrale)",
                                           [&central](const auto& use) { return central.ReadForStats(use); });
  if (!written) return Fail(written.error());
  if (!written->empty()) std::cout << "Rapport d'activité " << options.year << " écrit dans " << *written << std::endl;
  return 0;
}

int ConflictList(const std::string& db_path, const std::string& status, const std::string& territory, bool as_json) {
  auto store = OpenStore(db_path, OpenMode::kExisting);
  if (!store) return Fail(store.error());
  relais::server::ConflictFilter query;
  if (status == "all") {
    query.status.reset();
  } else if (status == "open" || status == "settled") {
    query.status = status;
  } else {
    return Fail(relais::MakeError(ErrorCode::kUsage, "--status " + status + " : attendu open, settled ou all"));
  }
  if (!territory.empty()) query.territory = territory;
  query.limit = 1000000;
  auto conflicts = (*store)->Conflicts(query);
  if (!conflicts) return Fail(conflicts.error());
  if (as_json) {
    json out = json::array();
    for (const auto& c : *conflicts) out.push_back(relais::server::ConflictJson(c));
    std::cout << out.dump(2) << std::endl;
    return 0;
  }
  if (conflicts->empty()) {
    std::cout << (status == "settled" ? "Aucun conflit réglé"
                  : status == "all"   ? "Aucun conflit"
                                      : "Aucun conflit ouvert")
              << (territory.empty() ? "" : " pour " + territory) << ".\n";
    return 0;
  }
  std::vector<std::vector<std::string>> rows = {
      {"N°", "TYPE", "STATUT", "FICHE", "CHAMP", "TERRITOIRE", "VALEUR CENTRE", "VALEUR APPAREIL", "OUVERT LE"}};
  for (const auto& c : *conflicts) rows.push_back(ConflictRow(c));
  PrintTable(rows);
  std::cout << "\n"
            << conflicts->size() << " conflit" << (conflicts->size() > 1 ? "s" : "")
            << ". Détail : relais-central conflicts show N°\n";
  return 0;
}

relais::Result<int64_t> ParseConflictId(const std::string& text) {
  if (text.empty() || text.size() > 18 || text.find_first_not_of("0123456789") != std::string::npos) {
    return relais::MakeError(ErrorCode::kUsage,
                             "numéro de conflit " + text + " : attendu un nombre (voir `conflicts list`)");
  }
  return std::stoll(text);
}

int ConflictShow(const std::string& db_path, const std::string& id_text, bool as_json) {
  auto id = ParseConflictId(id_text);
  if (!id) return Fail(id.error());
  auto store = OpenStore(db_path, OpenMode::kExisting);
  if (!store) return Fail(store.error());
  auto c = (*store)->GetConflict(*id);
  if (!c) return Fail(c.error());
  for (const std::optional<std::string>& read : {std::optional(c->record_id), c->other_id}) {
    if (!read) continue;
    if (auto noted = (*store)->NoteStaffRead(DefaultAuthor(), "conflit", c->table, *read); !noted) {
      return Fail(noted.error());
    }
  }
  auto history = (*store)->History(c->table, c->record_id);
  if (!history) return Fail(history.error());
  std::optional<std::vector<relais::server::HistoryEntry>> other;
  if (c->other_id) {
    auto other_history = (*store)->History(c->table, *c->other_id);
    if (!other_history) return Fail(other_history.error());
    other = std::move(*other_history);
  }
  if (as_json) {
    std::cout << relais::server::ConflictDetailJson(*c, *history, other).dump(2) << std::endl;
    return 0;
  }
  if (c->kind == "duplicate") {
    std::cout << "Conflit " << c->id << " — doublon probable : la fiche " << c->record_id << " (nouvelle, "
              << c->territory.value_or("-") << ")\nressemble à la fiche " << c->other_id.value_or("?")
              << " (existante, " << c->other_territory.value_or("-") << ").\n";
  } else {
    std::cout << "Conflit " << c->id << " — champ « " << c->field.value_or("?") << " » de " << c->table << " "
              << c->record_id << " (" << c->territory.value_or("annuaire partagé") << ")\n";
  }
  std::cout << "Ouvert le " << c->opened_at << " (séquence " << c->opened_seq << ", modification " << c->change_id
            << ")\n";
  if (c->status == "settled") {
    std::cout << "Réglé le " << c->settled_at.value_or("?") << " par " << c->settled_by.value_or("?") << " : "
              << SettlementLabel(c->settlement.value_or("")) << " ("
              << (c->kind == "duplicate" ? Shown(c->settled_value)
                                         : Words(c->table, c->field.value_or(""), c->settled_value))
              << ", séquence " << c->settled_seq.value_or(0) << ")\n";
  }
  std::cout << "\n";
  if (c->kind == "duplicate") {
    json mine = relais::server::LatestValuesJson(*history);
    json theirs = other ? relais::server::LatestValuesJson(*other) : json(nullptr);
    std::vector<std::vector<std::string>> rows = {{"CHAMP", "NOUVELLE FICHE", "FICHE EXISTANTE"}};
    for (const relais::schema::Field& f : relais::schema::CasesTable().fields) {
      const std::string name(f.name);
      json a = mine.is_object() && mine.contains(name) ? mine[name] : json(nullptr);
      json b = theirs.is_object() && theirs.contains(name) ? theirs[name] : json(nullptr);
      if (a.is_null() && b.is_null()) continue;
      rows.push_back(
          {name + (a != b ? " *" : ""), Cell(Words("cases", name, a), 40), Cell(Words("cases", name, b), 40)});
    }
    PrintTable(rows);
    std::cout << "(* : valeurs différentes)\n";
  } else {
    const std::string field = c->field.value_or("");
    std::vector<std::vector<std::string>> rows = {
        {"", "VALEUR", "APPAREIL", "HLC"},
        {"base", Cell(Words(c->table, field, c->base_value), 60), "", ""},
        {"centre", Cell(Words(c->table, field, c->server_value), 60), c->server_device, c->server_hlc},
        {"appareil", Cell(Words(c->table, field, c->device_value), 60), c->device, c->device_hlc}};
    PrintTable(rows);
  }
  std::cout << "\nHistorique de la fiche " << c->record_id << " :\n";
  relais::server::ConflictFilter on_record;
  on_record.status.reset();
  on_record.record_id = c->record_id;
  auto record_conflicts = (*store)->Conflicts(on_record);
  if (!record_conflicts) return Fail(record_conflicts.error());
  PrintHistory(*history, *record_conflicts, "  ");
  if (c->status == "open") {
    if (c->kind == "duplicate") {
      std::cout << "\nArbitrer : relais-central conflicts merge " << c->id << " [--take CHAMP …]   (la fiche existante "
                << "absorbe la nouvelle)\n       ou : relais-central conflicts dismiss " << c->id << "\n";
    } else {
      std::cout << "\nArbitrer : relais-central conflicts resolve " << c->id
                << " --keep server|device   ou   --value V\n";
    }
  }
  return 0;
}

int ConflictSettle(const std::string& db_path, const std::string& id_text, const std::string& action,
                   const std::string& keep, const std::optional<std::string>& value,
                   const std::vector<std::string>& take, std::string by, bool as_json) {
  auto id = ParseConflictId(id_text);
  if (!id) return Fail(id.error());
  if (by.empty()) by = DefaultAuthor();
  relais::server::Decision decision;
  if (action == "resolve") {
    if (keep.empty() == !value.has_value()) {
      return Fail(relais::MakeError(ErrorCode::kUsage, "resolve : donnez soit --keep server|device, soit --value V"));
    }
    if (keep == "server")
      decision.keep = relais::server::Decision::Keep::kServer;
    else if (keep == "device")
      decision.keep = relais::server::Decision::Keep::kDevice;
    else if (!keep.empty())
      return Fail(relais::MakeError(ErrorCode::kUsage, "--keep " + keep + " : attendu server ou device"));
    else {
      decision.keep = relais::server::Decision::Keep::kValue;
      decision.value = value;
    }
  }
  auto store = OpenStore(db_path, OpenMode::kExisting);
  if (!store) return Fail(store.error());
  relais::Result<relais::server::Conflict> settled = action == "resolve" ? (*store)->Resolve(*id, decision, by)
                                                     : action == "merge" ? (*store)->Merge(*id, take, by)
                                                                         : (*store)->Dismiss(*id, by);
  if (!settled) return Fail(settled.error());
  if (as_json) {
    std::cout << relais::server::ConflictJson(*settled).dump(2) << std::endl;
    return 0;
  }
  const auto& c = *settled;
  if (action == "merge") {
    std::cout << "Doublon " << c.id << " fusionné : la fiche " << Shown(c.settled_value) << " absorbe " << c.record_id
              << (take.empty() ? "" : " (champs repris : " + Join(take, ", ") + ")")
              << ", ses suivis lui sont rattachés ;\n"
              << c.record_id << " est close et redirige vers " << Shown(c.settled_value) << ".\n";
  } else if (action == "dismiss") {
    std::cout << "Doublon " << c.id << " écarté : les deux fiches restent distinctes.\n";
  } else {
    std::cout << "Conflit " << c.id << " réglé : " << SettlementLabel(c.settlement.value_or("")) << " ("
              << c.field.value_or("?") << " = " << Words(c.table, c.field.value_or(""), c.settled_value) << ").\n";
  }
  // No sequence number here: it is the notice's, one past the record's new version that `history`
  // shows, and would only puzzle staff (--json has settled_seq).
  std::cout << "Les appareils du territoire recevront ce règlement à leur prochaine synchronisation ; "
               "relais-central history "
            << c.record_id << " montre les versions de la fiche.\n";
  return 0;
}

int TerritoryAdd(const std::string& db_path, const relais::server::Territory& territory, bool as_json) {
  auto store = OpenStore(db_path, OpenMode::kCreate);
  if (!store) return Fail(store.error());
  if (auto done = (*store)->AddTerritory(territory); !done) return Fail(done.error());
  if (as_json) {
    std::cout << json{{"code", territory.code},
                      {"label", territory.label},
                      {"reception_points", territory.reception_points}}
                     .dump()
              << std::endl;
    return 0;
  }
  std::cout << "Territoire « " << territory.label << " » déclaré (code " << territory.code << ")";
  if (!territory.reception_points.empty())
    std::cout << ", points d'accueil : " << Join(territory.reception_points, ", ");
  std::cout << ".\nLes appareils l'apprennent à leur prochaine synchronisation.\n";
  return 0;
}

int TerritoryList(const std::string& db_path, bool as_json) {
  auto store = OpenStore(db_path, OpenMode::kExisting);
  if (!store) return Fail(store.error());
  auto network = (*store)->GetNetwork();
  if (!network) return Fail(network.error());
  if (as_json) {
    json territories = json::array();
    for (const auto& t : network->territories) {
      territories.push_back({{"code", t.code}, {"label", t.label}, {"reception_points", t.reception_points}});
    }
    std::cout << json{{"territories", territories}, {"transfers", relais::server::ToString(network->transfers)}}.dump(2)
              << std::endl;
    return 0;
  }
  if (network->territories.empty()) {
    std::cout << "Aucun territoire déclaré. Déclarer : relais-central territory add " << StoreOption(db_path)
              << " CODE --label LIBELLÉ [--reception-point NOM …]\n";
  } else {
    std::vector<std::vector<std::string>> rows = {{"CODE", "LIBELLÉ", "POINTS D'ACCUEIL"}};
    for (const auto& t : network->territories) {
      rows.push_back({t.code, t.label, t.reception_points.empty() ? "-" : Join(t.reception_points, ", ")});
    }
    PrintTable(rows);
  }
  std::cout << "\nTransferts hors des territoires d'un appareil : "
            << (network->transfers == relais::server::TransferPolicy::kReview ? "soumis à l'approbation du centre"
                                                                              : "appliqués")
            << " (relais-central territory policy --transfers review|allow)\n";
  return 0;
}

int TerritoryRename(const std::string& db_path, const std::string& code, const std::string& label) {
  auto store = OpenStore(db_path, OpenMode::kExisting);
  if (!store) return Fail(store.error());
  if (auto done = (*store)->RenameTerritory(code, label); !done) return Fail(done.error());
  std::cout << "Territoire " << code << " renommé « " << label
            << " » ; son code ne change pas : les dossiers et les appareils qui le portent restent tels quels.\n";
  return 0;
}

int TerritoryPoints(const std::string& db_path, const std::string& code, const std::vector<std::string>& add,
                    const std::vector<std::string>& remove, bool as_json) {
  if (add.empty() && remove.empty()) {
    return Fail(relais::MakeError(ErrorCode::kUsage, "rien à modifier : donnez --add NOM ou --remove NOM"));
  }
  auto store = OpenStore(db_path, OpenMode::kExisting);
  if (!store) return Fail(store.error());
  if (auto done = (*store)->EditReceptionPoints(code, add, remove); !done) return Fail(done.error());
  auto network = (*store)->GetNetwork();
  if (!network) return Fail(network.error());
  std::vector<std::string> points;
  for (const auto& t : network->territories) {
    if (t.code == code) points = t.reception_points;
  }
  if (as_json) {
    std::cout << json{{"code", code}, {"reception_points", points}}.dump() << std::endl;
    return 0;
  }
  std::cout << "Points d'accueil du territoire " << code << " : " << (points.empty() ? "aucun" : Join(points, ", "))
            << ".\nLes appareils l'apprennent à leur prochaine synchronisation ; les dossiers qui portent un point "
               "retiré le gardent, seules les saisies suivantes sont vérifiées.\n";
  return 0;
}

int TerritoryPolicy(const std::string& db_path, const std::string& transfers) {
  relais::server::TransferPolicy policy = relais::server::TransferPolicy::kAllow;
  if (transfers == "review") {
    policy = relais::server::TransferPolicy::kReview;
  } else if (transfers != "allow") {
    return Fail(relais::MakeError(ErrorCode::kUsage, "--transfers " + transfers + " : attendu review ou allow"));
  }
  auto store = OpenStore(db_path, OpenMode::kCreate);
  if (!store) return Fail(store.error());
  if (auto done = (*store)->SetTransferPolicy(policy); !done) return Fail(done.error());
  std::cout << (policy == relais::server::TransferPolicy::kReview
                    ? "Un dossier qu'un appareil transfère hors de ses territoires attend désormais l'approbation du "
                      "centre (relais-central conflicts list)."
                    : "Un dossier qu'un appareil transfère hors de ses territoires est désormais transféré aussitôt "
                      "(visible dans relais-central history).")
            << "\n";
  return 0;
}

int Migrate(const std::string& from, const std::string& to) {
  if (!relais::pg::IsPostgresUrl(to)) {
    return Fail(relais::MakeError(ErrorCode::kUsage, "--to : attendu postgresql://UTILISATEUR@HÔTE:PORT/BASE"));
  }
  auto report = relais::server::MigrateSqliteToPostgres(from, to);
  if (!report) return Fail(report.error());
  std::vector<std::vector<std::string>> rows = {{"TABLE", "LIGNES"}};
  for (const auto& [table, count] : report->rows) rows.push_back({table, std::to_string(count)});
  PrintTable(rows);
  std::cout << "Base centrale copiée de " << from << " vers " << report->target << " (séquence " << report->last_seq
            << ").\n"
            << "Les appareils gardent leurs jetons et leur curseur : ils reprennent la synchronisation sans tout "
               "retélécharger.\nServir désormais : relais-central serve --store "
            << report->target << "\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  relais::HardenProcess();  // files 0600, no core dump (base/hardening.h)
  try {
    CLI::App app{
        "relais-central : le serveur central de Relais, l'enrôlement des appareils et le règlement des "
        "conflits (docs/SERVER.md)"};
    FrenchHelp(app);
    app.require_subcommand(1);
    std::string db_path = "./central.db";
    std::string store_url;
    // Every command names its store the same way: --db FILE (SQLite, the default) or --store URL.
    auto store_options = [&](CLI::App* sub, const char* db_help) {
      auto* db = sub->add_option("--db", db_path, db_help)->capture_default_str();
      auto* store = sub->add_option("--store", store_url,
                                    "Base PostgreSQL au lieu d'un fichier : postgresql://UTILISATEUR@HÔTE:PORT/BASE");
      store->excludes(db);
    };

    auto* serve = app.add_subcommand("serve", "Servir la synchronisation et l'API du personnel en HTTP ou HTTPS");
    std::string listen = "127.0.0.1:8080";
    store_options(serve, "Fichier de la base centrale (créé au premier usage)");
    serve->add_option("--listen", listen, "HÔTE:PORT où écouter ; le port 0 laisse le système choisir")
        ->capture_default_str();
    relais::server::HttpOptions serve_options;
    serve
        ->add_option("--threads", serve_options.front.threads,
                     "Requêtes traitées à la fois ; une connexion inactive ou lente n'en occupe aucune")
        ->check(CLI::Range(size_t{1}, size_t{1024}))
        ->capture_default_str();
    serve->add_option("--tls-cert", serve_options.front.tls_cert_file,
                      "Certificat du serveur (PEM, chaîne comprise) : sert en HTTPS ; relu sur SIGHUP");
    serve->add_option("--tls-key", serve_options.front.tls_key_file, "Clé privée du certificat (PEM)");
    serve->add_option("--trusted-proxy", serve_options.front.trusted_proxies,
                      "Adresse d'un mandataire inverse dont l'en-tête X-Forwarded-For est cru (répétable)");
    serve
        ->add_option("--max-connections", serve_options.front.max_connections, "Connexions ouvertes à la fois, en tout")
        ->check(CLI::Range(size_t{16}, size_t{1000000}))
        ->capture_default_str();
    serve
        ->add_option("--max-connections-per-address", serve_options.front.max_connections_per_address,
                     "Connexions ouvertes à la fois depuis une même adresse")
        ->check(CLI::Range(size_t{1}, size_t{1000000}))
        ->capture_default_str();

    std::string ledger;
    const char* ledger_help =
        "Registre des effacements, hors de la base (défaut : à côté du fichier, FICHIER.effacements)";
    serve->add_option("--erasure-ledger", ledger, ledger_help);

    auto* device = app.add_subcommand("device", "Enrôler, lister et révoquer les appareils");
    device->require_subcommand(1);
    auto* add = device->add_subcommand("add", "Enrôler un appareil et afficher son jeton, une seule fois");
    std::string name;
    std::vector<std::string> territories;
    bool staff = false, add_json = false;
    store_options(add, "Fichier de la base centrale");
    add->add_option("--name", name, "Nom de l'appareil (lettres, chiffres, '-', '_', '.')")->required();
    add->add_option("--territory", territories, "Un territoire que l'appareil voit et modifie (répétable)")->required();
    add->add_flag("--staff", staff, "Personnel central plutôt qu'un appareil de terrain");
    add->add_flag("--json", add_json, "Afficher {name, role, territories, token} en JSON");

    auto* list = device->add_subcommand("list", "Lister les appareils (jamais leurs jetons)");
    bool list_json = false;
    store_options(list, "Fichier de la base centrale");
    list->add_flag("--json", list_json, "Afficher en JSON");

    auto* revoke = device->add_subcommand("revoke", "Révoquer un appareil : son jeton est désormais refusé");
    RevokeOptions revoke_options;
    revoke->add_option("NAME", revoke_options.name, "Nom de l'appareil")->required();
    store_options(revoke, "Fichier de la base centrale");
    revoke->add_flag("--wipe", revoke_options.wipe,
                     "Ordonner aussi à l'appareil d'effacer sa base locale à sa prochaine connexion");
    revoke->add_flag("--yes", revoke_options.yes, "Ne pas demander de confirmation (scripts)");
    revoke->add_flag("--json", revoke_options.json, "Afficher {name, wipe, pending_changes, pending_reported_at}");

    auto* history =
        app.add_subcommand("history", "Toutes les versions d'une fiche, avec les valeurs écartées par une fusion");
    std::string record_id;
    bool history_json = false;
    history->add_option("RECORD_ID", record_id, "Identifiant de la fiche (UUID)")->required();
    store_options(history, "Fichier de la base centrale");
    history->add_flag("--json", history_json, "Afficher en JSON");

    auto* person = app.add_subcommand("person", "Les droits des personnes suivies (RGPD) : accès, effacement");
    person->require_subcommand(1);
    auto* person_export =
        person->add_subcommand("export", "Tout ce que le centre détient sur une personne (droit d'accès)");
    std::string person_case, person_format = "json", person_output;
    person_export->add_option("CASE_ID", person_case, "Identifiant du dossier (UUID)")->required();
    person_export->add_option("--format", person_format, "json (défaut) ou html")
        ->check(CLI::IsMember({"json", "html"}));
    person_export->add_option("--output", person_output, "Fichier à écrire (défaut : la sortie standard)");
    store_options(person_export, "Fichier de la base centrale");

    auto* conflicts =
        app.add_subcommand("conflicts", "Lister, montrer et régler les conflits et les doublons probables");
    conflicts->require_subcommand(1);
    std::string conflict_id, status = "open", territory, keep, by;
    std::optional<std::string> value;
    std::vector<std::string> take;
    bool conflicts_json = false;
    auto common = [&](CLI::App* sub) {
      store_options(sub, "Fichier de la base centrale");
      sub->add_flag("--json", conflicts_json, "Afficher en JSON");
    };
    auto* c_list = conflicts->add_subcommand("list", "Lister les conflits (les ouverts par défaut)");
    common(c_list);
    c_list->add_option("--status", status, "open (ouverts), settled (réglés) ou all (tous)")->capture_default_str();
    c_list->add_option("--territory", territory, "Seulement les conflits de ce territoire");
    auto* c_show =
        conflicts->add_subcommand("show", "Un conflit : base, valeur de chaque côté, auteurs, estampilles, historique");
    common(c_show);
    c_show->add_option("ID", conflict_id, "Numéro du conflit")->required();
    auto* c_resolve =
        conflicts->add_subcommand("resolve", "Régler un conflit de champ : garder un côté, ou écrire une valeur");
    common(c_resolve);
    c_resolve->add_option("ID", conflict_id, "Numéro du conflit")->required();
    auto* keep_opt = c_resolve->add_option(
        "--keep", keep, "server (laisser la fiche telle quelle) ou device (prendre la valeur de l'appareil)");
    auto* value_opt =
        c_resolve->add_option("--value", value, "Écrire plutôt cette valeur (vérifiée comme toute modification)");
    keep_opt->excludes(value_opt);
    c_resolve->add_option("--by", by, "Qui règle (par défaut : le nom de connexion)");
    auto* c_merge = conflicts->add_subcommand("merge", "Fusionner un doublon probable dans le dossier existant");
    common(c_merge);
    c_merge->add_option("ID", conflict_id, "Numéro du conflit")->required();
    c_merge->add_option("--take", take, "Un champ que le dossier existant reprend du nouveau (répétable)");
    c_merge->add_option("--by", by, "Qui règle (par défaut : le nom de connexion)");
    auto* c_dismiss = conflicts->add_subcommand("dismiss", "Écarter un doublon probable : deux personnes différentes");
    common(c_dismiss);
    c_dismiss->add_option("ID", conflict_id, "Numéro du conflit")->required();
    c_dismiss->add_option("--by", by, "Qui règle (par défaut : le nom de connexion)");

    auto* restore = app.add_subcommand(
        "restore", "Remettre la base SQLite d'une sauvegarde (serve arrêté), puis noter la restauration");
    std::string backup_file;
    restore->add_option("BACKUP", backup_file, "Le fichier de sauvegarde (une copie de la base centrale)")->required();
    store_options(restore, "Fichier de la base centrale à remplacer");
    auto* restored = app.add_subcommand(
        "restored", "Noter que la base vient d'être restaurée d'une sauvegarde (pg_restore, copie de fichier)");
    store_options(restored, "Fichier de la base centrale");
    restored->add_option("--erasure-ledger", ledger, ledger_help);
    auto* erase = person->add_subcommand(
        "erase", "Effacer une personne partout : dossier, historique, conflits, appareils (garde les faits codés)");
    std::string erase_case, erase_reason, erase_by;
    bool erase_json = false;
    erase->add_option("CASE_ID", erase_case, "Identifiant du dossier (UUID)")->required();
    store_options(erase, "Fichier de la base centrale");
    erase->add_option("--reason", erase_reason, "Pourquoi (ex. : demande de la personne du 2026-12-01)")->required();
    erase->add_option("--by", erase_by, "Qui efface (par défaut : le nom de connexion)");
    erase->add_option("--erasure-ledger", ledger, ledger_help);
    erase->add_flag("--json", erase_json, "Afficher le reçu en JSON");
    auto* access_log = app.add_subcommand(
        "access-log", "Qui a lu le dossier d'une personne, ou ce qu'un appareil a lu (journal des accès)");
    relais::central_cli::AccessLogOptions access_options;
    access_log->add_option("CASE_ID", access_options.case_id, "Identifiant du dossier (UUID)");
    access_log->add_option("--device", access_options.device, "Les lectures d'un appareil (son nom), au lieu d'un dossier");
    access_log->add_option("--since", access_options.since, "Depuis ce jour (AAAA-MM-JJ)");
    access_log->add_flag("--json", access_options.json, "Afficher en JSON");
    store_options(access_log, "Fichier de la base centrale");
    auto* retention = app.add_subcommand("retention", "La durée de conservation des dossiers clos (RGPD art. 5)");
    retention->require_subcommand(1);
    relais::central_cli::RetentionOptions retention_options;
    auto* r_show = retention->add_subcommand("show", "Afficher la durée de conservation en vigueur");
    r_show->add_flag("--json", retention_options.json, "Afficher en JSON");
    store_options(r_show, "Fichier de la base centrale");
    auto* r_set = retention->add_subcommand("set", "Changer la durée de conservation");
    r_set->add_option("--closed-after-months", retention_options.closed_after_months,
                      "Au centre : effacer un dossier clos depuis plus de N mois (défaut 36)");
    r_set->add_option("--device-closed-after-days", retention_options.device_closed_after_days,
                      "Sur les appareils : retirer un dossier clos depuis plus de N jours (défaut 90)");
    store_options(r_set, "Fichier de la base centrale");
    auto* r_run = retention->add_subcommand("run", "Effacer maintenant les dossiers clos depuis trop longtemps");
    r_run->add_flag("--dry-run", retention_options.dry_run, "Lister sans rien effacer");
    r_run->add_flag("--json", retention_options.json, "Afficher en JSON");
    r_run->add_option("--erasure-ledger", retention_options.ledger, ledger_help);
    store_options(r_run, "Fichier de la base centrale");
    auto* erasures = app.add_subcommand("erasures", "Lister les effacements faits (le reçu de chacun)");
    store_options(erasures, "Fichier de la base centrale");
    bool erasures_json = false;
    erasures->add_flag("--json", erasures_json, "Afficher en JSON");
    auto* recovered = app.add_subcommand("recovered", "Lister ce que les appareils ont renvoyé après une restauration");
    store_options(recovered, "Fichier de la base centrale");
    size_t recovered_limit = 1000;
    bool recovered_json = false;
    recovered->add_option("--limit", recovered_limit, "Au plus N fiches, les plus récentes d'abord")
        ->check(CLI::Range(size_t{1}, size_t{1000000}))
        ->capture_default_str();
    recovered->add_flag("--json", recovered_json, "Afficher en JSON");
    auto* territory_cmd =
        app.add_subcommand("territory",
                          "Déclarer, lister et renommer les territoires, leurs points d'accueil ; régler les transferts");
    territory_cmd->require_subcommand(1);
    relais::server::Territory new_territory;
    std::string territory_code, territory_label, transfers;
    bool territory_json = false;
    auto* t_add = territory_cmd->add_subcommand("add", "Déclarer un territoire, avec ses points d'accueil");
    store_options(t_add, "Fichier de la base centrale");
    t_add->add_option("CODE", new_territory.code, "Code du territoire, tel que les dossiers le portent")->required();
    t_add->add_option("--label", new_territory.label, "Libellé, en français")->required();
    t_add->add_option("--reception-point", new_territory.reception_points, "Un point d'accueil (répétable)");
    t_add->add_flag("--json", territory_json, "Afficher {code, label, reception_points} en JSON");
    auto* t_list = territory_cmd->add_subcommand("list", "Lister les territoires déclarés et la règle des transferts");
    store_options(t_list, "Fichier de la base centrale");
    t_list->add_flag("--json", territory_json, "Afficher en JSON");
    auto* t_rename =
        territory_cmd->add_subcommand("rename", "Changer le libellé d'un territoire (son code ne change pas)");
    store_options(t_rename, "Fichier de la base centrale");
    t_rename->add_option("CODE", territory_code, "Code du territoire")->required();
    t_rename->add_option("--label", territory_label, "Nouveau libellé")->required();
    std::vector<std::string> points_add, points_remove;
    auto* t_points = territory_cmd->add_subcommand(
        "points", "Ajouter ou retirer des points d'accueil d'un territoire (les dossiers qui en portent un le gardent)");
    store_options(t_points, "Fichier de la base centrale");
    t_points->add_option("CODE", territory_code, "Code du territoire")->required();
    t_points->add_option("--add", points_add, "Un point d'accueil à ajouter (répétable)");
    t_points->add_option("--remove", points_remove, "Un point d'accueil à retirer (répétable)");
    t_points->add_flag("--json", territory_json, "Afficher {code, reception_points} en JSON");
    auto* t_policy = territory_cmd->add_subcommand(
        "policy", "Régler les transferts de dossiers hors des territoires d'un appareil : review ou allow");
    store_options(t_policy, "Fichier de la base centrale");
    t_policy->add_option("--transfers", transfers, "review (le centre approuve) ou allow (appliqués aussitôt)")
        ->required();

    auto* permanences = app.add_subcommand("permanences", "Les permanences des partenaires, de tous les territoires");
    permanences->require_subcommand(1);
    bool permanences_json = false;
    auto* p_list = permanences->add_subcommand("list", "Lister les permanences, leurs rendez-vous et surréservations");
    store_options(p_list, "Fichier de la base centrale");
    p_list->add_flag("--json", permanences_json, "Afficher en JSON");

    auto* referrals = app.add_subcommand("referrals", "Les orientations vers des partenaires, de tous les territoires");
    referrals->require_subcommand(1);
    bool referrals_json = false, referrals_overdue = false;
    std::string referrals_territory;
    auto* r_list = referrals->add_subcommand("list", "Lister les orientations, leur état et leur échéance");
    store_options(r_list, "Fichier de la base centrale");
    r_list->add_flag("--overdue", referrals_overdue,
                     "Seulement celles en retard (échéance passée, ni réalisée, ni abandonnée, ni refusée)");
    r_list->add_option("--territory", referrals_territory, "Seulement ce territoire (celui du dossier)");
    r_list->add_flag("--json", referrals_json, "Afficher en JSON");
    relais::stats::Options stats_options;
    auto* stats = app.add_subcommand("stats", "Statistiques du réseau, petits effectifs masqués (docs/STATISTICS.md)");
    store_options(stats, "Fichier de la base centrale");
    relais::stats::AddOptions(*stats, stats_options);
    stats->add_flag("--json", stats_options.json, "Afficher en JSON");
    relais::stats::ReportOptions report_options;
    auto* report = app.add_subcommand("report", "Rapport d'activité annuel du réseau, HTML ou PDF (docs/STATISTICS.md)");
    store_options(report, "Fichier de la base centrale");
    relais::stats::AddReportOptions(*report, report_options);

    auto* migrate = app.add_subcommand("migrate", "Copier une base centrale SQLite dans une base PostgreSQL vide");
    std::string migrate_from, migrate_to;
    migrate->add_option("--from", migrate_from, "Le fichier de la base SQLite (arrêtez d'abord `serve` sur elle)")
        ->required();
    migrate->add_option("--to", migrate_to, "postgresql://UTILISATEUR@HÔTE:PORT/BASE (une base vide)")->required();

    FrenchGroups(app);
    try {
      app.parse(argc, argv);
    } catch (const CLI::CallForHelp& e) {
      return app.exit(e);
    } catch (const CLI::CallForAllHelp& e) {
      return app.exit(e);
    } catch (const CLI::ParseError& e) {
      std::cerr << ParseFailure(e);
      return 2;
    }

    if (!store_url.empty()) {
      if (!relais::pg::IsPostgresUrl(store_url)) {
        return Fail(relais::MakeError(ErrorCode::kUsage,
                                      "--store : attendu postgresql://UTILISATEUR@HÔTE:PORT/BASE "
                                      "(pour un fichier : --db FICHIER)"));
      }
      db_path = store_url;
    }
    if (*migrate) return Migrate(migrate_from, migrate_to);
    if (*serve) return Serve(db_path, listen, serve_options, LedgerOf(db_path, ledger));
    if (*erase) return PersonErase(db_path, erase_case, erase_reason, erase_by, LedgerOf(db_path, ledger), erase_json);
    if (*erasures) return ErasuresList(db_path, erasures_json);
    if (*access_log) return relais::central_cli::AccessLogList(db_path, access_options);
    if (*r_show) return relais::central_cli::RetentionShow(db_path, retention_options);
    if (*r_set) return relais::central_cli::RetentionSet(db_path, retention_options);
    if (*r_run) {
      retention_options.ledger = LedgerOf(db_path, retention_options.ledger);
      return relais::central_cli::RetentionRunCommand(db_path, retention_options);
    }
    if (*add) return DeviceAdd(db_path, name, territories, staff, add_json);
    if (*list) return DeviceList(db_path, list_json);
    if (*revoke) return DeviceRevoke(db_path, revoke_options);
    if (*history) return History(db_path, record_id, history_json);
    if (*person_export) return PersonExport(db_path, person_case, person_format, person_output);
    if (*restore) return Restore(db_path, backup_file);
    if (*restored) return Restored(db_path, LedgerOf(db_path, ledger));
    if (*recovered) return Recovered(db_path, recovered_limit, recovered_json);
    if (*t_add) return TerritoryAdd(db_path, new_territory, territory_json);
    if (*t_list) return TerritoryList(db_path, territory_json);
    if (*t_rename) return TerritoryRename(db_path, territory_code, territory_label);
    if (*t_points) return TerritoryPoints(db_path, territory_code, points_add, points_remove, territory_json);
    if (*t_policy) return TerritoryPolicy(db_path, transfers);
    if (*c_list) return ConflictList(db_path, status, territory, conflicts_json);
    if (*p_list) return PermanencesList(db_path, permanences_json);
    if (*r_list) return ReferralsList(db_path, referrals_overdue, referrals_territory, referrals_json);
    if (*stats) return Stats(db_path, stats_options);
    if (*report) return Report(db_path, report_options);
    if (*c_show) return ConflictShow(db_path, conflict_id, conflicts_json);
    if (*c_resolve) return ConflictSettle(db_path, conflict_id, "resolve", keep, value, take, by, conflicts_json);
    if (*c_merge) return ConflictSettle(db_path, conflict_id, "merge", keep, value, take, by, conflicts_json);
    if (*c_dismiss) return ConflictSettle(db_path, conflict_id, "dismiss", keep, value, take, by, conflicts_json);
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "relais-central : erreur interne : " << e.what() << "\n";
    return 1;
  }
}
