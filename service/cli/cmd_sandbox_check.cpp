// SPDX-License-Identifier: LGPL-2.1-or-later
// tws sandbox-check [--config FILE] [--port N] [PATH ...]
// Starts a media worker as `tws serve` would and has it try what its sandbox must refuse:
// a network socket, a connection to 127.0.0.1:N, reading the config file and each PATH,
// creating a file, and finding any secret of the config in its environment. Prints the
// report; exits 0 when everything was refused, 1 when anything was allowed.
#include <unistd.h>
#include <cstdio>
#include <string>

#include "service/cli/commands.h"
#include "service/worker/isolated.h"

namespace tws {

int cmd_sandbox_check(const Args& args) {
  CommandLine line;
  std::string error;
  if (!parse_command_line(args, {"--port"}, 0, 64, &line, &error))
    return fail(kExitUsage, "sandbox-check: " + error +
                                " (tws sandbox-check [--config FILE] [--port N] [PATH ...])");
  Config config;
  if (!load_command_config(line, &config, &error)) return fail(kExitFailure, error);
  int port = 9;  // discard: nothing need listen for a refused connect
  if (auto it = line.options.find("--port"); it != line.options.end())
    port = std::atoi(it->second.c_str());
  std::vector<std::string> paths = {config.file};
  paths.insert(paths.end(), line.positional.begin(), line.positional.end());
  std::vector<std::string> secrets;
  for (const SigningKey& k : config.keys) secrets.push_back(k.secret);
  for (const std::string& t : config.api_tokens) secrets.push_back(t);
  for (const BucketConfig& b : config.buckets)
    if (!b.secret_access_key.empty()) secrets.push_back(b.secret_access_key);
  // And what this process's environment holds under a secret's name (AWS_SECRET_ACCESS_KEY).
  for (char** e = environ; e && *e; ++e) {
    const std::string entry = *e;
    const std::string name = entry.substr(0, entry.find('='));
    for (const char* word : {"SECRET", "TOKEN", "PASSWORD", "KEY"})
      if (name.find(word) != std::string::npos) secrets.push_back(entry.substr(name.size() + 1));
  }
  // A secret of a few characters would be found in any environment by chance.
  std::erase_if(secrets, [](const std::string& s) { return s.size() < 8; });
  std::string report;
  if (!check_sandbox(port, paths, secrets, &report, &error)) return fail(kExitFailure, error);
  std::fputs(report.c_str(), stdout);
  const bool leaky =
      report.find("ALLOWED") != std::string::npos || report.find(": YES") != std::string::npos;
  return leaky ? kExitFailure : kExitOk;
}

}  // namespace tws
