#include "client/ui/server.h"

#include <httplib.h>

#include <map>
#include <mutex>

#include "client/ui/guard.h"
#include "client/ui/pages.h"

namespace relais::ui {

namespace {

constexpr const char* kCookie = "relais_ui";
constexpr const char* kHtml = "text/html; charset=utf-8";
// The largest form taken: a follow-up's text is at most 20,000 characters (schema/model.cc).
constexpr size_t kMaxForm = size_t{256} * 1024;

int Hex(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// A form's body (application/x-www-form-urlencoded) as its fields.
std::map<std::string, std::string> FormFields(const std::string& body) {
  std::map<std::string, std::string> out;
  size_t at = 0;
  while (at <= body.size()) {
    const size_t end = std::min(body.find('&', at), body.size());
    std::string key, value;
    std::string* into = &key;
    for (size_t i = at; i < end; ++i) {
      const char c = body[i];
      if (c == '=' && into == &key) {
        into = &value;
      } else if (c == '+') {
        into->push_back(' ');
      } else if (c == '%' && i + 2 < end && Hex(body[i + 1]) >= 0 && Hex(body[i + 2]) >= 0) {
        into->push_back(static_cast<char>(Hex(body[i + 1]) * 16 + Hex(body[i + 2])));
        i += 2;
      } else {
        into->push_back(c);
      }
    }
    if (!key.empty()) out[key] = value;
    at = end + 1;
  }
  return out;
}

}  // namespace

struct Server::State {
  client::Records& records;
  const Clock& clock;
  httplib::Server http;
  std::string host;
  int port = 0;
  const std::string secret = RandomToken();
  std::mutex mutex;                             // the replica: one request at a time
  std::map<std::string, std::string> sessions;  // session token → its CSRF token

  State(client::Records& r, const Clock& c) : records(r), clock(c) {}

  void Page(httplib::Response& res, int status, const std::string& html) {
    res.status = status;
    res.set_content(html, kHtml);
  }
  void Refuse(httplib::Response& res, int status, const std::string& why) {
    Page(res, status, MessagePage("Accès refusé", why));
  }
  void Fail(httplib::Response& res, const Error& e) {
    Page(res, e.code == ErrorCode::kNotFound ? 404 : 500,
         MessagePage(e.code == ErrorCode::kNotFound ? "Introuvable" : "Erreur", e.message));
  }

  // The session's CSRF token when the request may be served, else "" with the refusal written.
  std::string Admit(const httplib::Request& req, httplib::Response& res) {
    if (!LoopbackPeer(req.remote_addr)) {
      Refuse(res, 403, "Relais ne répond qu'aux demandes de ce poste.");
      return "";
    }
    if (!OwnHost(req.get_header_value("Host"), port)) {
      Refuse(res, 403, "Adresse refusée : ouvrez Relais par l'adresse que « relais ui » a affichée.");
      return "";
    }
    const std::string session = CookieValue(req.get_header_value("Cookie"), kCookie);
    for (const auto& [token, csrf] : sessions) {
      if (SameToken(token, session)) return csrf;
    }
    Refuse(res, 403,
           "Session inconnue : ouvrez Relais par le lien que « relais ui » a affiché dans le terminal (ou relancez "
           "« relais ui »).");
    return "";
  }

  // A form sent from this program's own page: its Origin is ours and it carries the CSRF token.
  bool AdmitForm(const httplib::Request& req, httplib::Response& res, const std::string& csrf,
                 const std::map<std::string, std::string>& form) {
    const std::string origin = req.get_header_value("Origin");
    if (origin != "http://" + req.get_header_value("Host")) {
      Refuse(res, 403, "Formulaire refusé : il ne vient pas d'une page de Relais.");
      return false;
    }
    auto sent = form.find("jeton");
    if (sent == form.end() || !SameToken(sent->second, csrf)) {
      Refuse(res, 403, "Formulaire refusé : jeton de sécurité absent ou périmé. Rechargez la page et recommencez.");
      return false;
    }
    return true;
  }

  void Routes() {
    http.set_payload_max_length(kMaxForm);
    http.set_post_routing_handler([](const httplib::Request&, httplib::Response& res) {
      // Personal data: never cached, never framed, never sent elsewhere.
      res.set_header("Cache-Control", "no-store");
      res.set_header("X-Content-Type-Options", "nosniff");
      res.set_header("Referrer-Policy", "same-origin");  // no-referrer would make forms send "Origin: null"
      res.set_header("Content-Security-Policy", "default-src 'self'; frame-ancestors 'none'; form-action 'self'");
    });
    http.Get("/ouvrir", [this](const httplib::Request& req, httplib::Response& res) {
      std::lock_guard<std::mutex> lock(mutex);
      if (!LoopbackPeer(req.remote_addr) || !OwnHost(req.get_header_value("Host"), port) ||
          !SameToken(req.get_param_value("cle"), secret)) {
        return Refuse(res, 403, "Lien d'ouverture refusé : utilisez celui que « relais ui » a affiché.");
      }
      const std::string session = RandomToken();
      sessions[session] = RandomToken();
      res.set_header("Set-Cookie", std::string(kCookie) + "=" + session + "; HttpOnly; SameSite=Strict; Path=/");
      // `suite`: a page of this program to show first (a path, never another site).
      std::string next = req.get_param_value("suite");
      if (next.empty() || next[0] != '/' || next.find("//") != std::string::npos || next.find('\\') != std::string::npos)
        next = "/";
      res.set_redirect(next, 303);
    });
    http.Get("/style.css", [this](const httplib::Request& req, httplib::Response& res) {
      if (!OwnHost(req.get_header_value("Host"), port)) return Refuse(res, 403, "Adresse refusée.");
      res.set_content(StyleSheet(), "text/css; charset=utf-8");
    });
    http.Get("/relais.js", [this](const httplib::Request& req, httplib::Response& res) {
      if (!OwnHost(req.get_header_value("Host"), port)) return Refuse(res, 403, "Adresse refusée.");
      res.set_content(Script(), "text/javascript; charset=utf-8");
    });
    http.Get("/", [this](const httplib::Request& req, httplib::Response& res) {
      std::lock_guard<std::mutex> lock(mutex);
      if (Admit(req, res).empty()) return;
      auto page = AgendaPage(records, clock);
      page ? Page(res, 200, *page) : Fail(res, page.error());
    });
    http.Get("/recherche", [this](const httplib::Request& req, httplib::Response& res) {
      std::lock_guard<std::mutex> lock(mutex);
      if (Admit(req, res).empty()) return;
      auto page = SearchPage(records, req.get_param_value("q"), req.get_param_value("partiel") == "1");
      page ? Page(res, 200, *page) : Fail(res, page.error());
    });
    http.Get(R"(/dossiers/([0-9a-f-]{36}))", [this](const httplib::Request& req, httplib::Response& res) {
      std::lock_guard<std::mutex> lock(mutex);
      const std::string csrf = Admit(req, res);
      if (csrf.empty()) return;
      auto page = CasePage(records, clock, req.matches[1], csrf);
      page ? Page(res, 200, *page) : Fail(res, page.error());
    });
    http.Post(R"(/dossiers/([0-9a-f-]{36})/suivis)", [this](const httplib::Request& req, httplib::Response& res) {
      std::lock_guard<std::mutex> lock(mutex);
      const std::string csrf = Admit(req, res);
      if (csrf.empty()) return;
      const std::map<std::string, std::string> form = FormFields(req.body);
      if (!AdmitForm(req, res, csrf, form)) return;
      const std::string id = req.matches[1];
      Status added = AddFollowupFromForm(records, id, form);
      if (added) return res.set_redirect("/dossiers/" + id + "#titre-suivis", 303);
      if (added.error().code != ErrorCode::kValidation) return Fail(res, added.error());
      auto page = CasePage(records, clock, id, csrf, form, &added.error());
      page ? Page(res, 422, *page) : Fail(res, page.error());
    });
  }
};

Server::Server(client::Records& records, const Clock& clock) : state_(std::make_unique<State>(records, clock)) {
  state_->Routes();
}

Server::~Server() = default;

Result<int> Server::Bind(const std::string& host, int port) {
  if (!LoopbackListen(host)) {
    return MakeError(ErrorCode::kUsage, "--listen " + host +
                                            " : relais ui n'écoute que sur ce poste (127.0.0.1, localhost ou ::1), "
                                            "pour que personne d'autre ne lise les dossiers");
  }
  const std::string address = host == "localhost" ? "127.0.0.1" : host;
  const int bound = port == 0 ? state_->http.bind_to_any_port(address) : (state_->http.bind_to_port(address, port) ? port : -1);
  if (bound <= 0) {
    return MakeError(ErrorCode::kIo, "impossible d'écouter sur " + host + ":" + std::to_string(port) +
                                         " (port déjà pris ? essayez --listen 127.0.0.1:0 pour un port libre)");
  }
  state_->host = host == "::1" ? "[::1]" : (host == "localhost" ? "127.0.0.1" : host);
  state_->port = bound;
  return bound;
}

std::string Server::OpeningUrl() const {
  return "http://" + state_->host + ":" + std::to_string(state_->port) + "/ouvrir?cle=" + state_->secret;
}

void Server::Run() { state_->http.listen_after_bind(); }

void Server::Stop() { state_->http.stop(); }

}  // namespace relais::ui
