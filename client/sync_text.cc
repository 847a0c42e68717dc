#include "client/sync_text.h"

namespace relais::client {

namespace {

std::string DifferencesText(const std::vector<sync::TableDifference>& tables) {
  std::string out;
  for (const sync::TableDifference& t : tables) {
    if (!out.empty()) out += "; ";
    out += t.table + ": ";
    if (t.local_count != t.central_count) {
      out += std::to_string(t.local_count) + " ici, " + std::to_string(t.central_count) + " au centre";
    } else {
      out += std::to_string(t.local_count) + " des deux côtés, identifiants, versions ou valeurs différents";
    }
  }
  return out;
}

// Follow-ups without their case, named by id (the first few).
std::string OrphansText(const std::vector<std::string>& orphans) {
  constexpr size_t kNamed = 5;
  std::string out = std::to_string(orphans.size()) + " suivi(s) sans leur dossier (";
  for (size_t i = 0; i < orphans.size() && i < kNamed; ++i) out += (i ? ", " : "") + orphans[i];
  if (orphans.size() > kNamed) out += ", …";
  return out + ")";
}

// The tables that differ, then the follow-ups without their case.
std::string DriftText(const std::vector<sync::TableDifference>& tables, const std::vector<std::string>& orphans) {
  std::string out = DifferencesText(tables);
  if (!orphans.empty()) out += (out.empty() ? "" : "; ") + OrphansText(orphans);
  return out;
}

const char* ExchangeText(sync::Exchange exchange) {
  switch (exchange) {
    case sync::Exchange::kWhoami:
      return "connexion au centre";
    case sync::Exchange::kPush:
      return "envoi des saisies au centre";
    case sync::Exchange::kPull:
      return "réception des nouveautés du centre";
  }
  return "échange avec le centre";
}

// What to do about a refusal, after the centre's own message.
std::string RefusalHint(const sync::SyncError& e) {
  switch (e.http_status) {
    case 401:
      return " — le jeton de cet appareil est inconnu ou révoqué. Rien n'est perdu : vos saisies en attente restent "
             "dans cette base. Demandez un nouveau jeton à l'équipe centrale, puis lancez `relais init --server "
             "ADRESSE --token NOUVEAU` : la base garde ses saisies, et `relais sync` les enverra";
    case 413:
      return " — réduisez la taille des lots avec `relais sync --batch N`";
    case 400:
      if (e.code == ErrorCode::kProtocol)
        return " — ce Relais et le centre ne parlent pas la même version du protocole ; mettez Relais à jour";
      return "";
    default:
      return "";
  }
}

std::string Sentence(const sync::SyncError& e) {
  switch (e.failure) {
    case sync::SyncFailure::kUnreachable:
      return std::string(ExchangeText(e.exchange)) + " : échec après " + std::to_string(e.attempts) + " tentatives (" +
             (e.http_status ? "le centre a répondu " + std::to_string(e.http_status) : e.message) +
             "). Rien n'est perdu : vos saisies restent dans la base ; relancez `relais sync` quand le réseau sera "
             "revenu.";
    case sync::SyncFailure::kRefused:
      return "le centre a répondu " + std::to_string(e.http_status) + " : " + e.message + RefusalHint(e);
    case sync::SyncFailure::kUnreadableAnswer:
      return std::string(ExchangeText(e.exchange)) + " : la réponse du centre n'est pas comprise (" + e.message +
             ") ; rien n'est perdu, réessayez plus tard, et si cela persiste mettez Relais à jour";
    case sync::SyncFailure::kAnswerNotForBatch:
      return "la réponse du centre ne correspond pas au lot envoyé ; rien n'est perdu, réessayez plus tard";
    case sync::SyncFailure::kPageOffCursor:
      return "le centre a envoyé une page qui ne suit pas le curseur ; rien n'est perdu, réessayez plus tard";
    case sync::SyncFailure::kPageRefused:
      return std::string(ExchangeText(e.exchange)) + " : " + e.message +
             ". La base locale et vos saisies en attente sont intactes ; signalez-le à l'équipe centrale (le centre "
             "envoie des données invalides, ou l'adresse ne mène pas à votre centre), puis relancez `relais sync`.";
    case sync::SyncFailure::kNotACentre:
      return NotACentreText(e.message, e.http_status);
    case sync::SyncFailure::kReplica:
      return e.message;
    case sync::SyncFailure::kStillDivergent:
      return "la base locale diffère encore du centre après une copie fraîche (" + DriftText(e.differences, e.orphans) +
             "). Vos saisies restent dans la base ; relancez `relais sync`, et si l'écart persiste signalez-le au "
             "support.";
  }
  return e.message;
}

}  // namespace

std::string NotACentreText(const std::string& what, int http_status) {
  return "l'adresse du centre ne répond pas comme un centre Relais (elle a répondu par " + what +
         (http_status > 0 ? ", statut HTTP " + std::to_string(http_status) : std::string()) +
         ") : vérifiez l'adresse donnée à `relais init --server` (http ou https, nom, port, sans chemin ni /v1) et "
         "qu'aucun portail d'accès ou proxy ne répond à la place du centre. Rien n'est perdu : vos saisies restent "
         "dans la base.";
}

Error SyncErrorForPeople(const sync::SyncError& error) { return Error{error.code, Sentence(error)}; }

std::string DivergenceText(const sync::Divergence& d) {
  if (d.centre_behind) {
    return "le centre est à la séquence " + std::to_string(d.centre_seq) + ", cette base en était à " +
           std::to_string(d.replica_cursor) + " (centre restauré d'une sauvegarde ?)";
  }
  return DriftText(d.tables, d.orphans);
}

std::string LostEditText(const std::string& field, const std::string& record, const std::string& kept,
                         const std::string& record_id) {
  std::string text = "Le champ " + field + " " + record;
  text += kept.empty() ? " a gardé la valeur d'une autre saisie, plus récente que la vôtre"
                       : " a gardé « " + kept + " », saisi plus récemment ailleurs";
  return text +
         " ; votre valeur n'est pas perdue : elle reste dans l'historique de la fiche au centre (le "
         "personnel central la voit avec relais-central history " +
         record_id + ")";
}

std::string MergedCaseText(const std::string& created, const std::string& survivor, const std::string& survivor_id) {
  return "Arbitrage du centre : le dossier " + created + " que vous avez créé a été fusionné dans " + survivor +
         " ; ses entrées de suivi y ont été déplacées, et c'est ce dossier qu'il faut désormais compléter (relais "
         "case show " +
         survivor_id + ")";
}

std::string PendingRecordsText(int64_t records) {
  if (records == 0) return "aucune fiche modifiée";
  return std::to_string(records) + (records == 1 ? " fiche modifiée" : " fiches modifiées");
}

}  // namespace relais::client
