// What `relais sync` says of a failure or a divergence (client/sync_text.h): French, what failed,
// whether anything is lost, and what to do.

#include <catch2/catch.hpp>

#include "client/sync_text.h"

using namespace relais;
using namespace relais::client;
using sync::Exchange;
using sync::SyncFailure;

namespace {

bool Says(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

}  // namespace

TEST_CASE("an unreachable centre: what failed, after how many tries, that nothing is lost, and to sync again",
          "[sync_text]") {
  sync::SyncError e =
      sync::MakeSyncError(SyncFailure::kUnreachable, ErrorCode::kNetwork, "délai dépassé", Exchange::kPush, 0);
  e.attempts = 6;
  Error said = SyncErrorForPeople(e);
  CHECK(said.code == ErrorCode::kNetwork);
  CHECK(said.message ==
        "envoi des saisies au centre : échec après 6 tentatives (délai dépassé). Rien n'est perdu : vos saisies "
        "restent dans la base ; relancez `relais sync` quand le réseau sera revenu.");
  e.http_status = 503;
  e.exchange = Exchange::kWhoami;
  CHECK(
      Says(SyncErrorForPeople(e).message, "connexion au centre : échec après 6 tentatives (le centre a répondu 503)"));
}

TEST_CASE("a refusal repeats the centre's status and message, and says what to do for the known ones", "[sync_text]") {
  auto refused = [](int status, ErrorCode code) {
    return SyncErrorForPeople(
        sync::MakeSyncError(SyncFailure::kRefused, code, "the centre's words", Exchange::kPush, status));
  };
  Error revoked = refused(401, ErrorCode::kAuth);
  CHECK(revoked.code == ErrorCode::kAuth);
  CHECK(Says(revoked.message, "le centre a répondu 401 : the centre's words"));
  CHECK(Says(revoked.message, "révoqué"));
  CHECK(Says(revoked.message, "vos saisies en attente restent"));
  CHECK(Says(revoked.message, "`relais init --server ADRESSE --token NOUVEAU`"));
  CHECK(Says(refused(413, ErrorCode::kTooLarge).message, "`relais sync --batch N`"));
  CHECK(Says(refused(400, ErrorCode::kProtocol).message, "mettez Relais à jour"));
  CHECK(refused(403, ErrorCode::kForbidden).message == "le centre a répondu 403 : the centre's words");
}

TEST_CASE("an address that is not a Relais centre says what came and what to check, not to update Relais",
          "[sync_text][hostile]") {
  Error said = SyncErrorForPeople(
      sync::MakeSyncError(SyncFailure::kNotACentre, ErrorCode::kProtocol, "une page HTML", Exchange::kPull, 404));
  CHECK(said.code == ErrorCode::kProtocol);
  CHECK(Says(said.message, "ne répond pas comme un centre Relais (elle a répondu par une page HTML, statut HTTP 404)"));
  CHECK(Says(said.message, "`relais init --server`"));
  CHECK(Says(said.message, "Rien n'est perdu"));
  CHECK_FALSE(Says(said.message, "mettez Relais à jour"));
}

TEST_CASE("a refused page says what is wrong, that nothing of it was stored, and whom to tell",
          "[sync_text][hostile]") {
  Error said = SyncErrorForPeople(sync::MakeSyncError(
      SyncFailure::kPageRefused, ErrorCode::kProtocol,
      "page refusée (rien n'en est enregistré) : cases, fiche X : status: « hacker » n'est pas une valeur permise",
      Exchange::kPull, 200));
  CHECK(said.code == ErrorCode::kProtocol);
  CHECK(Says(said.message,
             "réception des nouveautés du centre : page refusée (rien n'en est enregistré) : cases, "
             "fiche X : status: « hacker »"));
  CHECK(Says(said.message, "signalez-le à l'équipe centrale"));
}

TEST_CASE("a failure of the replica is said as the replica said it, with its code", "[sync_text]") {
  Error said = SyncErrorForPeople(sync::ReplicaFailed(MakeError(ErrorCode::kIo, "disque plein")));
  CHECK(said.code == ErrorCode::kIo);
  CHECK(said.message == "disque plein");
}

TEST_CASE("a replica still different after a fresh copy names the tables and says to sync again, then report it",
          "[sync_text]") {
  sync::SyncError e = sync::MakeSyncError(SyncFailure::kStillDivergent, ErrorCode::kInternal, "", Exchange::kPull, 200);
  e.differences = {{"cases", 3, 4}, {"contacts", 2, 2}};
  Error said = SyncErrorForPeople(e);
  CHECK(said.code == ErrorCode::kInternal);
  CHECK(Says(said.message,
             "(cases: 3 ici, 4 au centre; contacts: 2 des deux côtés, identifiants, versions ou "
             "valeurs différents)"));
  CHECK(Says(said.message, "relancez `relais sync`"));
  CHECK(Says(said.message, "signalez-le au support"));
}

TEST_CASE("a divergence is said table by table, or as a centre behind the replica", "[sync_text]") {
  sync::Divergence tables;
  tables.tables = {{"cases", 1203, 1204}};
  CHECK(DivergenceText(tables) == "cases: 1203 ici, 1204 au centre");
  sync::Divergence behind;
  behind.centre_behind = true;
  behind.centre_seq = 80;
  behind.replica_cursor = 120;
  CHECK(DivergenceText(behind) ==
        "le centre est à la séquence 80, cette base en était à 120 (centre restauré d'une "
        "sauvegarde ?)");
}

TEST_CASE("a value that lost to a later edit: which field of which case kept which value, and where the other is",
          "[sync_text]") {
  CHECK(LostEditText("téléphone", "du dossier Girard Maël", "0622222222", "0193-id") ==
        "Le champ téléphone du dossier Girard Maël a gardé « 0622222222 », saisi plus récemment ailleurs ; votre "
        "valeur n'est pas perdue : elle reste dans l'historique de la fiche au centre (le personnel central la voit "
        "avec relais-central history 0193-id)");
  // A record the replica no longer holds (it left the device's territories meanwhile): no value to quote.
  CHECK(Says(LostEditText("téléphone", "du dossier 0193-id", "", "0193-id"),
             "a gardé la valeur d'une autre saisie, plus récente que la vôtre ; votre valeur n'est pas perdue"));
}

TEST_CASE("a case merged by the centre: the sentence is whole and says where to go on", "[sync_text]") {
  CHECK(MergedCaseText("Lefèvre Élodie", "Lefèvre Élodie (0192-id)", "0192-id") ==
        "Arbitrage du centre : le dossier Lefèvre Élodie que vous avez créé a été fusionné dans Lefèvre Élodie "
        "(0192-id) ; ses entrées de suivi y ont été déplacées, et c'est ce dossier qu'il faut désormais compléter "
        "(relais case show 0192-id)");
}

TEST_CASE("status counts records waiting, not changes", "[sync_text]") {
  CHECK(PendingRecordsText(0) == "aucune fiche modifiée");
  CHECK(PendingRecordsText(1) == "1 fiche modifiée");
  CHECK(PendingRecordsText(3) == "3 fiches modifiées");
}
