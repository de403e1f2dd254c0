// SPDX-License-Identifier: LGPL-2.1-or-later
// tws serve [--config FILE] [--listen ADDR:PORT]
#include "service/cli/commands.h"
#include "service/cli/http_server.h"

namespace tws {

int cmd_serve(const Args& args) {
  CommandLine line;
  std::string error;
  if (!parse_command_line(args, {"--listen"}, 0, 0, &line, &error))
    return fail(kExitUsage,
                "serve: " + error + " (tws serve [--config FILE] [--listen ADDR:PORT])");
  ServeOptions options;
  if (!load_command_config(line, &options.config, &error)) return fail(kExitFailure, error);
  options.listen = options.config.listen;
  if (auto it = line.options.find("--listen"); it != line.options.end())
    options.listen = it->second;
  options.print_token = line.config_file.empty();
  return run_server(std::move(options));
}

}  // namespace tws
