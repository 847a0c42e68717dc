// relais-central: serves the central endpoint and enrols devices (docs/SERVER.md).
// Exit codes: 0 ok, 2 usage, 3 validation, 4 not found, 1 anything else.
#include <CLI/CLI.hpp>

#include <nlohmann/json.hpp>

#include <pthread.h>
#include <signal.h>

#include <algorithm>
#include <cstdio>
#include <iostream>
#include <thread>

#include "base/text.h"
#include "server/http.h"
#include "server/sqlite_store.h"

namespace {

using relais::Error;
using relais::ErrorCode;
using relais::server::SqliteStore;
using nlohmann::json;

int ExitCodeFor(ErrorCode code) {
  switch (code) {
    case ErrorCode::kUsage: return 2;
    case ErrorCode::kValidation: return 3;
    case ErrorCode::kConflict: return 3;
    case ErrorCode::kNotFound: return 4;
    default: return 1;
  }
}

int Fail(const Error& error) {
  std::cerr << "relais-central: " << error.message << "\n";
  return ExitCodeFor(error.code);
}

json OrNull(const std::optional<std::string>& v) { return v ? json(*v) : json(nullptr); }

// Prints rows as columns padded to their widest cell (code points, so accents line up).
void PrintTable(const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> widths;
  for (const auto& row : rows) {
    widths.resize(std::max(widths.size(), row.size()));
    for (size_t i = 0; i < row.size(); ++i) widths[i] = std::max(widths[i], relais::Utf8Length(row[i]));
  }
  for (const auto& row : rows) {
    std::string line;
    for (size_t i = 0; i < row.size(); ++i) {
      line += row[i];
      if (i + 1 < row.size()) line += std::string(widths[i] - relais::Utf8Length(row[i]) + 2, ' ');
    }
    std::cout << line << "\n";
  }
}

std::string Join(const std::vector<std::string>& items, const char* sep) {
  std::string out;
  for (const std::string& s : items) out += (out.empty() ? "" : sep) + s;
  return out;
}

relais::Result<std::unique_ptr<SqliteStore>> OpenStore(const std::string& path, SqliteStore::OpenMode mode) {
  return SqliteStore::Open(path, mode);
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

int Serve(const std::string& db_path, const std::string& listen) {
  std::string host;
  int port = 0;
  if (!ParseListen(listen, host, port)) {
    return Fail(relais::MakeError(ErrorCode::kUsage, "--listen " + listen + ": expected HOST:PORT, e.g. 127.0.0.1:8080"));
  }
  // SIGINT and SIGTERM are taken by one thread that stops the server: blocked here, before any
  // other thread exists, so that every thread inherits the mask.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  auto store = OpenStore(db_path, SqliteStore::OpenMode::kCreate);
  if (!store) return Fail(store.error());
  relais::server::HttpEndpoint endpoint(**store);
  auto bound = endpoint.Bind(host, port);
  if (!bound) return Fail(bound.error());

  std::thread stopper([&] {
    int sig = 0;
    sigwait(&stop_signals, &sig);
    endpoint.Stop();
  });
  std::string shown_host = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  std::cout << "listening on http://" << shown_host << ":" << *bound << std::endl;
  std::cerr << "relais-central: serving " << db_path << " (stop with Ctrl-C)" << std::endl;
  auto served = endpoint.Serve();
  pthread_kill(stopper.native_handle(), SIGTERM);  // wakes the stopper if Serve() ended by itself
  stopper.join();
  if (!served) return Fail(served.error());
  std::cerr << "relais-central: stopped" << std::endl;
  return 0;
}

int DeviceAdd(const std::string& db_path, const std::string& name, const std::vector<std::string>& territories,
              bool staff, bool as_json) {
  auto store = OpenStore(db_path, SqliteStore::OpenMode::kCreate);
  if (!store) return Fail(store.error());
  auto role = staff ? relais::server::Role::kStaff : relais::server::Role::kDevice;
  auto token = (*store)->AddDevice(name, territories, role);
  if (!token) return Fail(token.error());
  std::vector<std::string> sorted = territories;
  std::sort(sorted.begin(), sorted.end());
  sorted.erase(std::unique(sorted.begin(), sorted.end()), sorted.end());
  if (as_json) {
    std::cout << json{{"name", name}, {"role", relais::server::ToString(role)}, {"territories", sorted},
                      {"token", *token}}.dump() << std::endl;
    return 0;
  }
  std::cout << "Appareil « " << name << " » enrôlé (" << relais::server::ToString(role)
            << ") pour : " << Join(sorted, ", ") << ".\n\n"
            << "Jeton d'accès :\n\n  " << *token << "\n\n"
            << "Ce jeton n'est affiché qu'une seule fois : le serveur n'en garde qu'une empreinte.\n"
            << "Transmettez-le à l'appareil par un canal sûr, puis sur l'appareil :\n"
            << "  relais init --server URL --token " << *token << "\n"
            << "En cas de perte : relais-central device revoke " << name << ", puis enrôlez-le à nouveau sous un autre nom.\n";
  return 0;
}

int DeviceList(const std::string& db_path, bool as_json) {
  auto store = OpenStore(db_path, SqliteStore::OpenMode::kExisting);
  if (!store) return Fail(store.error());
  auto devices = (*store)->ListDevices();
  if (!devices) return Fail(devices.error());
  if (as_json) {
    json out = json::array();
    for (const auto& d : *devices) {
      out.push_back({{"name", d.name}, {"role", relais::server::ToString(d.role)}, {"territories", d.territories},
                     {"created_at", d.created_at}, {"last_seen_at", OrNull(d.last_seen_at)},
                     {"revoked_at", OrNull(d.revoked_at)}});
    }
    std::cout << out.dump(2) << std::endl;
    return 0;
  }
  if (devices->empty()) {
    std::cout << "Aucun appareil enrôlé. Enrôler : relais-central device add --db " << db_path
              << " --name NOM --territory TERRITOIRE\n";
    return 0;
  }
  std::vector<std::vector<std::string>> rows = {{"APPAREIL", "RÔLE", "TERRITOIRES", "CRÉÉ LE", "VU LE", "RÉVOQUÉ LE"}};
  for (const auto& d : *devices) {
    rows.push_back({d.name, relais::server::ToString(d.role), Join(d.territories, ","), d.created_at,
                    d.last_seen_at.value_or("-"), d.revoked_at.value_or("-")});
  }
  PrintTable(rows);
  return 0;
}

int DeviceRevoke(const std::string& db_path, const std::string& name) {
  auto store = OpenStore(db_path, SqliteStore::OpenMode::kExisting);
  if (!store) return Fail(store.error());
  auto revoked = (*store)->RevokeDevice(name);
  if (!revoked) return Fail(revoked.error());
  std::cout << "Appareil « " << name << " » révoqué : son jeton est désormais refusé (401).\n";
  return 0;
}

int History(const std::string& db_path, const std::string& record_id, bool as_json) {
  auto store = OpenStore(db_path, SqliteStore::OpenMode::kExisting);
  if (!store) return Fail(store.error());
  auto history = (*store)->History("", record_id);
  if (!history) return Fail(history.error());
  if (history->empty()) {
    return Fail(relais::MakeError(ErrorCode::kNotFound, "no history for record " + record_id +
                                                            " (check the id: it is the record's UUID)"));
  }
  if (as_json) {
    json out = json::array();
    for (const auto& h : *history) {
      out.push_back({{"version", h.seq}, {"table", h.table}, {"record", h.record_id}, {"device", h.device},
                     {"hlc", h.hlc}, {"change", OrNull(h.change_id)}, {"at", h.at},
                     {"values", json::parse(h.snapshot, nullptr, false)},
                     {"lost", h.lost ? json::parse(*h.lost, nullptr, false) : json(nullptr)}});
    }
    std::cout << out.dump(2) << std::endl;
    return 0;
  }
  std::cout << "Historique de " << history->front().table << " " << record_id << " (" << history->size()
            << " version" << (history->size() > 1 ? "s" : "") << ")\n";
  for (const auto& h : *history) {
    std::cout << "\nversion " << h.seq << "  " << h.at << "  par " << h.device << "  (hlc " << h.hlc << ")\n";
    std::cout << "  " << h.snapshot << "\n";
    if (h.lost) std::cout << "  valeurs écartées : " << *h.lost << "\n";
  }
  return 0;
}

int ConflictList(const std::string& db_path, bool all, bool as_json) {
  auto store = OpenStore(db_path, SqliteStore::OpenMode::kExisting);
  if (!store) return Fail(store.error());
  relais::server::ConflictQuery query;
  if (all) query.status.reset();
  query.limit = 100000;
  auto conflicts = (*store)->Conflicts(query);
  if (!conflicts) return Fail(conflicts.error());
  if (as_json) {
    json out = json::array();
    for (const auto& c : *conflicts) {
      out.push_back({{"id", c.id}, {"kind", c.kind}, {"status", c.status}, {"table", c.table},
                     {"record", c.record_id}, {"field", OrNull(c.field)}, {"territory", OrNull(c.territory)},
                     {"base", OrNull(c.base_value)}, {"server", OrNull(c.server_value)},
                     {"server_device", c.server_device}, {"server_hlc", c.server_hlc},
                     {"device_value", OrNull(c.device_value)}, {"device", c.device}, {"device_hlc", c.device_hlc},
                     {"change", c.change_id}, {"opened_seq", c.opened_seq}, {"opened_at", c.opened_at}});
    }
    std::cout << out.dump(2) << std::endl;
    return 0;
  }
  if (conflicts->empty()) {
    std::cout << "Aucun conflit " << (all ? "" : "ouvert ") << "à arbitrer.\n";
    return 0;
  }
  std::vector<std::vector<std::string>> rows = {
      {"N°", "STATUT", "TABLE", "FICHE", "CHAMP", "VALEUR SERVEUR", "PAR", "VALEUR APPAREIL", "PAR", "OUVERT LE"}};
  for (const auto& c : *conflicts) {
    rows.push_back({std::to_string(c.id), c.status, c.table, c.record_id, c.field.value_or("-"),
                    c.server_value.value_or("(vide)"), c.server_device, c.device_value.value_or("(vide)"), c.device,
                    c.opened_at});
  }
  PrintTable(rows);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    CLI::App app{"relais-central: the central endpoint of Relais and its device enrolment (docs/SERVER.md)"};
    app.require_subcommand(1);
    std::string db_path = "./central.db";

    auto* serve = app.add_subcommand("serve", "Serve the sync endpoint over HTTP");
    std::string listen = "127.0.0.1:8080";
    serve->add_option("--db", db_path, "Central store file (created on first use)")->capture_default_str();
    serve->add_option("--listen", listen, "HOST:PORT to listen on; port 0 lets the system pick")->capture_default_str();

    auto* device = app.add_subcommand("device", "Enrol, list and revoke devices");
    device->require_subcommand(1);
    auto* add = device->add_subcommand("add", "Enrol a device and print its token, once");
    std::string name;
    std::vector<std::string> territories;
    bool staff = false, add_json = false;
    add->add_option("--db", db_path, "Central store file")->capture_default_str();
    add->add_option("--name", name, "Device name (letters, digits, '-', '_', '.')")->required();
    add->add_option("--territory", territories, "A territory the device sees and writes (repeatable)")->required();
    add->add_flag("--staff", staff, "Central staff rather than a field device");
    add->add_flag("--json", add_json, "Print {name, role, territories, token} as JSON");

    auto* list = device->add_subcommand("list", "List devices (never their tokens)");
    bool list_json = false;
    list->add_option("--db", db_path, "Central store file")->capture_default_str();
    list->add_flag("--json", list_json, "Print JSON");

    auto* revoke = device->add_subcommand("revoke", "Revoke a device: its token is refused from now on");
    std::string revoke_name;
    revoke->add_option("NAME", revoke_name, "Device name")->required();
    revoke->add_option("--db", db_path, "Central store file")->capture_default_str();

    auto* history = app.add_subcommand("history", "Every version of a record, with the values that lost a merge");
    std::string record_id;
    bool history_json = false;
    history->add_option("RECORD_ID", record_id, "The record's id (UUID)")->required();
    history->add_option("--db", db_path, "Central store file")->capture_default_str();
    history->add_flag("--json", history_json, "Print JSON");

    auto* conflicts = app.add_subcommand("conflicts", "List the conflicts kept for central review");
    bool conflicts_all = false, conflicts_json = false;
    conflicts->add_option("--db", db_path, "Central store file")->capture_default_str();
    conflicts->add_flag("--all", conflicts_all, "Include settled conflicts");
    conflicts->add_flag("--json", conflicts_json, "Print JSON");

    try {
      app.parse(argc, argv);
    } catch (const CLI::CallForHelp& e) {
      return app.exit(e);
    } catch (const CLI::CallForAllHelp& e) {
      return app.exit(e);
    } catch (const CLI::ParseError& e) {
      app.exit(e);
      return 2;
    }

    if (*serve) return Serve(db_path, listen);
    if (*add) return DeviceAdd(db_path, name, territories, staff, add_json);
    if (*list) return DeviceList(db_path, list_json);
    if (*revoke) return DeviceRevoke(db_path, revoke_name);
    if (*history) return History(db_path, record_id, history_json);
    if (*conflicts) return ConflictList(db_path, conflicts_all, conflicts_json);
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "relais-central: internal error: " << e.what() << "\n";
    return 1;
  }
}
