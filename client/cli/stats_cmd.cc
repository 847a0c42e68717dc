// relais stats — counts over the replica, small counts protected; relais report — the annual
// activity report of the replica's scope: docs/CLI.md, "stats" and "report"; docs/STATISTICS.md.
#include <CLI/CLI.hpp>

#include <iostream>

#include <nlohmann/json.hpp>

#include "client/cli/commands.h"
#include "client/replica_stats.h"
#include "stats/options.h"

namespace relais::cli {

void RegisterStatsCommand(CLI::App& app, Context& ctx) {
  auto options = std::make_shared<stats::Options>();
  auto* command = app.add_subcommand("stats", "Statistiques de la base de l'appareil (petits effectifs masqués)");
  stats::AddOptions(*command, *options);
  command->callback([&ctx, options] {
    options->json = ctx.json;
    auto replica = ctx.Replica();
    if (!replica) return ctx.Finish(replica.error());
    auto query = stats::QueryFrom(*options, client::LocalToday(*ctx.clock),
                                  "la base de cet appareil (son périmètre)");
    if (!query) return ctx.Finish(query.error());
    auto table = client::ReplicaStats(**replica, *query);
    if (!table) return ctx.Finish(table.error());
    // A CSV file is data: written exactly, its byte order mark and CRLF kept.
    if (options->format == "csv" && !ctx.json) ctx.exact_stdout = true;
    std::cout << stats::Render(*table, *options) << std::flush;
    ctx.Finish(OkStatus());
  });
}

void RegisterReportCommand(CLI::App& app, Context& ctx) {
  auto options = std::make_shared<stats::ReportOptions>();
  auto* command = app.add_subcommand("report", "Rapport d'activité annuel de la base de l'appareil (HTML ou PDF)");
  stats::AddReportOptions(*command, *options);
  command->callback([&ctx, options] {
    auto replica = ctx.Replica();
    if (!replica) return ctx.Finish(replica.error());
    client::Replica& r = **replica;
    // The page on standard output is a document: written exactly.
    ctx.exact_stdout = options->output.empty() && options->format == "html";
    auto written = stats::MakeReport(*options, client::LocalToday(*ctx.clock), "la base de cet appareil (son périmètre)",
                                     [&r](const auto& use) { return client::ReadReplicaForStats(r, use); });
    if (!written) return ctx.Finish(written.error());
    if (written->empty()) {
      // The page went out.
    } else if (ctx.json) {
      std::cout << nlohmann::json{{"written", *written}, {"format", options->format}, {"year", options->year}}.dump(2)
                << std::endl;
    } else {
      std::cout << "Rapport d'activité " << options->year << " écrit dans " << *written << std::endl;
    }
    ctx.Finish(OkStatus());
  });
}

}  // namespace relais::cli
