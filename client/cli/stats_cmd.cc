// relais stats — counts over the replica, small counts protected: docs/CLI.md, "stats";
// docs/STATISTICS.md.
#include <CLI/CLI.hpp>

#include <iostream>

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

}  // namespace relais::cli
