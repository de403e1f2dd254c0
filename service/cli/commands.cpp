// SPDX-License-Identifier: LGPL-2.1-or-later
#include "service/cli/commands.h"

#include <glib.h>

#include <algorithm>
#include <cstdio>

#include "common/gref.h"
#include "service/playlist/playlist_file.h"

namespace tws {

const char* usage_text() {
  return "Usage: tws COMMAND [--config FILE] ...\n"
         "\n"
         "  tws serve    [--config FILE] [--listen ADDR:PORT]\n"
         "      HTTP service (API.md): playlists API, signed playback, segments transcoded on\n"
         "      request. Port 0 picks a free port; the first stdout line is\n"
         "      \"listening on http://ADDR:PORT\". SIGINT/SIGTERM stop it.\n"
         "  tws playlist [--config FILE] REQUEST.json\n"
         "      Write the playlists of a GenerateVideoPlaylist request (JSON file) into storage\n"
         "      and print the response JSON. Nothing is transcoded.\n"
         "  tws segment  [--config FILE] PLAYLIST_URI K [N]\n"
         "      Transcode segment K (or K..N in one run) of a stored playlist into storage;\n"
         "      prints the URI of each stored segment on stdout.\n"
         "  tws storyboard [--config FILE] PLAYLIST_URI\n"
         "      Make the trick-play storyboard of a stored playlist (WebVTT + JPEG sprites of\n"
         "      the source's keyframes) into storage; prints the URI of each stored object.\n"
         "  tws sign     [--config FILE] URI [--expires SECONDS]\n"
         "      Print a signed playback URL (default 3600 s, at most 7 days).\n"
         "  tws probe    [--config FILE] SOURCE_URI\n"
         "      Print the source's streams and duration as JSON.\n"
         "  tws sandbox-check [--config FILE] [--port N] [PATH ...]\n"
         "      Start a media worker and report what its sandbox refuses (network, the config\n"
         "      file and each PATH, writing files, secrets in its environment); exit 1 if it\n"
         "      allowed any of it.\n"
         "\n"
         "URIs are oss://BUCKET/KEY or s3://BUCKET/KEY, BUCKET a [bucket NAME] of the config.\n"
         "Without --config, tws uses ./data/tws.conf, creating it (and ./data/media) on first "
         "use.\n"
         "Exit status: 0 success, 2 bad usage, 1 anything else (one line on stderr).\n";
}

int fail(int status, const std::string& message) {
  std::string line = message;
  std::replace(line.begin(), line.end(), '\n', ' ');
  std::fprintf(stderr, "tws: %s\n", line.c_str());
  return status;
}

bool parse_command_line(const Args& args, const std::vector<std::string>& value_options,
                        size_t min_positional, size_t max_positional, CommandLine* line,
                        std::string* error) {
  CommandLine out;
  bool only_positional = false;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (only_positional || a.size() < 2 || a[0] != '-') {
      out.positional.push_back(a);
      continue;
    }
    if (a == "--") {
      only_positional = true;
      continue;
    }
    std::string name = a, value;
    bool has_value = false;
    if (const auto eq = a.find('='); eq != std::string::npos) {
      name = a.substr(0, eq);
      value = a.substr(eq + 1);
      has_value = true;
    }
    const bool known = name == "--config" || std::find(value_options.begin(), value_options.end(),
                                                       name) != value_options.end();
    if (!known) {
      *error = "unknown option " + name;
      return false;
    }
    if (!has_value) {
      if (i + 1 >= args.size()) {
        *error = name + " needs a value";
        return false;
      }
      value = args[++i];
    }
    if (name == "--config")
      out.config_file = value;
    else
      out.options[name] = value;
  }
  if (out.positional.size() < min_positional || out.positional.size() > max_positional) {
    *error = out.positional.size() < min_positional ? "missing arguments" : "too many arguments";
    return false;
  }
  *line = std::move(out);
  return true;
}

bool load_command_config(const CommandLine& line, Config* config, std::string* error) {
  if (line.config_file.empty()) return load_default_config(config, error);
  return load_config(line.config_file, config, error);
}

bool load_command_playlist(const CommandLine& line, Config* config, StoredPlaylist* playlist,
                           std::string* error) {
  if (!load_command_config(line, config, error)) return false;
  ObjectUri uri;
  if (!resolve_object_uri(*config, line.positional[0], &uri, error)) return false;
  if (prefix_of_playlist_key(uri.key).empty()) uri.key += ".m3u8";  // the target's prefix given
  Failure failure;
  if (load_stored_playlist(*config, uri, playlist, &failure)) return true;
  *error = failure.message;
  return false;
}

bool read_local_file(const std::string& path, std::string* text, std::string* error) {
  gchar* contents = nullptr;
  gsize length = 0;
  GError* gerr = nullptr;
  if (!g_file_get_contents(path.c_str(), &contents, &length, &gerr)) {
    *error = gerr->message;
    g_error_free(gerr);
    return false;
  }
  GUnique<gchar> owned(contents);
  text->assign(contents, length);
  return true;
}

}  // namespace tws
