// SPDX-License-Identifier: LGPL-2.1-or-later
// The offline commands of the `tws` binary (API.md "CLI"). Each takes the arguments after
// its name and returns the exit status: 0 success, 2 bad usage, 1 anything else (with one
// "tws: ..." line on stderr).
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "service/core/config.h"
#include "service/core/uri.h"
#include "service/playlist/stored_playlist.h"
#include "service/storage/storage.h"

namespace tws {

enum ExitStatus { kExitOk = 0, kExitFailure = 1, kExitUsage = 2 };

using Args = std::vector<std::string>;

int cmd_serve(const Args& args);
int cmd_playlist(const Args& args);
int cmd_segment(const Args& args);
int cmd_storyboard(const Args& args);
int cmd_sign(const Args& args);
int cmd_probe(const Args& args);
int cmd_sandbox_check(const Args& args);

// The --help text.
const char* usage_text();

// Shared by the commands ------------------------------------------------------------------

// Prints "tws: MESSAGE" on stderr and returns `status`.
int fail(int status, const std::string& message);

struct CommandLine {
  std::string config_file;                     // --config FILE; "" for the default
  std::map<std::string, std::string> options;  // other "--name VALUE" options
  Args positional;
};

// Parses [--config FILE], the value options named in `value_options` ("--expires") and
// between min_positional and max_positional positional arguments. False with the reason.
bool parse_command_line(const Args& args, const std::vector<std::string>& value_options,
                        size_t min_positional, size_t max_positional, CommandLine* line,
                        std::string* error);

// The config named by --config, else ./data/tws.conf (created on first use).
bool load_command_config(const CommandLine& line, Config* config, std::string* error);

// The config, then the stored playlist named by the first positional argument (a .m3u8 URI,
// or a target's prefix). False with a one-line reason.
bool load_command_playlist(const CommandLine& line, Config* config, StoredPlaylist* playlist,
                           std::string* error);

// Reads a whole local file (the request body).
bool read_local_file(const std::string& path, std::string* text, std::string* error);

}  // namespace tws
