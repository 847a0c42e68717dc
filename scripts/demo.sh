#!/usr/bin/env bash
# The main job, end to end, on throwaway files: a central endpoint on its embedded store, two
# counsellors' laptops in the same territory working offline, then synchronising.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
BIN=${BUILD_DIR:-build}
RELAIS="$PWD/$BIN/relais"
CENTRAL="$PWD/$BIN/relais-central"
WORK=$(mktemp -d /tmp/relais-demo.XXXXXX)
# The laptops' replicas are encrypted (docs/PRIVACY.md): the demo gives their passphrase through the
# environment, as a script does, instead of `relais unlock` on a terminal.
export RELAIS_PASSPHRASE=${RELAIS_PASSPHRASE:-"phrase de passe de la démo"}
cleanup() { [ -n "${SERVER_PID:-}" ] && kill "$SERVER_PID" 2>/dev/null; wait 2>/dev/null; rm -rf "$WORK"; }
trap cleanup EXIT

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
run() { printf '$ %s\n' "$*" | sed "s#$WORK/##g; s#$PWD/$BIN/##g"; "$@"; }

step "Le centre : un point de synchronisation sur une base SQLite embarquée"
"$CENTRAL" serve --db "$WORK/central.db" --listen 127.0.0.1:0 > "$WORK/server.out" 2> "$WORK/server.log" &
SERVER_PID=$!
for _ in $(seq 50); do grep -q "listening on" "$WORK/server.out" 2>/dev/null && break; sleep 0.1; done
URL=$(sed -n 's/^listening on //p' "$WORK/server.out")
echo "centre à l'écoute sur $URL"

step "Inscription de deux appareils du Briançonnais (le jeton n'est montré qu'une fois)"
TOKEN_A=$("$CENTRAL" device add --db "$WORK/central.db" --name portable-nevache --territory hautes-alpes-brianconnais --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
TOKEN_B=$("$CENTRAL" device add --db "$WORK/central.db" --name pae-briancon --territory hautes-alpes-brianconnais --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
run "$CENTRAL" device list --db "$WORK/central.db"

A=(--db "$WORK/portable.db")
B=(--db "$WORK/pae.db")
run "$RELAIS" "${A[@]}" init --server "$URL" --token "$TOKEN_A"
run "$RELAIS" "${B[@]}" init --server "$URL" --token "$TOKEN_B"

step "Permanence à Névache, hors réseau : nouveaux dossiers et entretiens"
ID1=$("$RELAIS" "${A[@]}" case add --last-name Lefèvre --first-name Élodie --birth-date 1991-04-12 \
  --postcode 05100 --commune Névache --phone "06 12 34 56 78" --status demandeur_emploi \
  --sector tourisme_hotellerie --service-level 2 --reception-point "CC Briançonnais" --json \
  | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
ID2=$("$RELAIS" "${A[@]}" case add --last-name Girard --first-name Maël --postcode 05100 --commune Cervières \
  --status salarie --sector btp --service-level 1 --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
run "$RELAIS" "${A[@]}" followup add "$ID1" --kind entretien --text "Projet de saison d'hiver ; CV à reprendre."
run "$RELAIS" "${A[@]}" followup add "$ID1" --kind orientation --text "Orientée vers le GRETA pour une formation de réceptionniste."
run "$RELAIS" "${A[@]}" contact add --organisation "Mission locale Briançon" --kind jeunes --last-name Roux --first-name Inès --phone 0492000000
run "$RELAIS" "${A[@]}" case search elodie
run "$RELAIS" "${A[@]}" case list --open
run "$RELAIS" "${A[@]}" status

step "Retour au réseau : synchronisation du portable, puis du point d'accueil"
run "$RELAIS" "${A[@]}" sync
run "$RELAIS" "${B[@]}" sync
run "$RELAIS" "${B[@]}" case show "$ID1"

step "Deux saisies hors ligne sur le même dossier, la même semaine"
run "$RELAIS" "${A[@]}" case edit "$ID1" --email elodie.lefevre@exemple.fr
run "$RELAIS" "${B[@]}" case edit "$ID1" --phone 0698765432
run "$RELAIS" "${A[@]}" case edit "$ID2" --status demandeur_emploi
run "$RELAIS" "${B[@]}" case edit "$ID2" --status independant
run "$RELAIS" "${B[@]}" followup add "$ID2" --kind business_plan --text "Préfaisabilité d'une activité de guide."
run "$RELAIS" "${A[@]}" sync
run "$RELAIS" "${B[@]}" sync
run "$RELAIS" "${A[@]}" sync

step "Résultat : les champs différents sont fusionnés, le statut contesté attend l'arbitrage du centre"
run "$RELAIS" "${A[@]}" case show "$ID1"
run "$RELAIS" "${A[@]}" case show "$ID2"
run "$RELAIS" "${B[@]}" status
run "$RELAIS" "${B[@]}" conflicts

step "Au centre : l'arbitrage, puis chaque appareil le reçoit à sa synchronisation suivante"
run "$CENTRAL" conflicts list --db "$WORK/central.db"
CONFLICT=$("$CENTRAL" conflicts list --db "$WORK/central.db" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["id"])')
run "$CENTRAL" conflicts resolve "$CONFLICT" --keep device --db "$WORK/central.db"
run "$RELAIS" "${A[@]}" sync
run "$RELAIS" "${B[@]}" sync
run "$RELAIS" "${A[@]}" case show "$ID2"
run "$CENTRAL" history "$ID2" --db "$WORK/central.db"
echo
echo "Démo terminée (fichiers temporaires supprimés)."
