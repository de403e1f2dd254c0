# SPDX-License-Identifier: LGPL-2.1-or-later
"""Checks the GStreamer plugin's documentation, as GStreamer's own CI checks its plugins'.

Fails (exit 1) when:
  - the documentation cache the build made (build/gst/gst_plugins_cache.json) differs from
    the committed docs/gst_plugins_cache.json: a property, pad template, enum value or text
    changed without the committed docs following. Its "url" is left out of the comparison
    (it follows the install prefix and the package-origin option) and checked on its own:
    the configured origin, a URL;
  - a property an element defines has no blurb, or one that only repeats its nick or name
    (plugin_cache --lint);
  - an element has no "SECTION:element-NAME" doc comment in gst/ with an "## Example launch
    line" section, or an example sets a property the element does not have;
  - a docs/*.md file is not installed (the root meson.build's install_data lists them).
Refresh the committed cache after a deliberate change:
    ninja -C build && cp build/gst/gst_plugins_cache.json docs/
Usage: check-gst-docs.py --source-root DIR --generated JSON --plugin SO --plugin-cache EXE
                         --origin URL
"""
import argparse
import difflib
import glob
import json
import os
import re
import subprocess
import sys


def dump(cache):
    """The text GStreamer's cache generator (and plugin_cache) writes."""
    return json.dumps(cache, indent=4, sort_keys=True, ensure_ascii=False)


def check_cache(generated, committed_path, origin):
    problems = []
    for name, plugin in generated.items():
        url = plugin.get("url", "")
        if url != origin:
            problems.append(f"plugin {name}: origin {url!r}, but the build configured {origin!r}")
        if not re.match(r"[a-z][a-z0-9+.-]*://\S+$", url):
            problems.append(f"plugin {name}: origin {url!r} is not a URL")
    try:
        with open(committed_path, encoding="utf-8") as f:
            committed_text = f.read()
        committed = json.loads(committed_text)
    except (OSError, ValueError) as e:
        return problems + [f"{committed_path}: {e}"]
    expected = json.loads(json.dumps(generated))
    for name, plugin in expected.items():
        if name in committed and "url" in committed[name]:
            plugin["url"] = committed[name]["url"]
    if dump(expected) != committed_text:
        diff = list(difflib.unified_diff(committed_text.splitlines(), dump(expected).splitlines(),
                                         "docs/gst_plugins_cache.json (committed)",
                                         "build/gst/gst_plugins_cache.json (built)", lineterm=""))
        print("\n".join(diff[:80] + (["..."] if len(diff) > 80 else [])))
        problems.append("docs/gst_plugins_cache.json is not what the build generates; if the "
                        "change is meant, refresh it: cp build/gst/gst_plugins_cache.json docs/")
    return problems


def lint(plugin_cache, plugin):
    """(problems, {element: set of property names}) from plugin_cache --lint."""
    env = dict(os.environ)
    env.setdefault("ASAN_OPTIONS", "detect_leaks=0")  # GStreamer's own one-time allocations
    run = subprocess.run([plugin_cache, "--lint", plugin], capture_output=True, text=True, env=env)
    props, problems = {}, []
    for line in run.stdout.splitlines():
        if line.startswith("property "):
            _, element, prop = line.split()
            props.setdefault(element, set()).add(prop)
        elif line.startswith("problem: "):
            problems.append(line[len("problem: "):])
    if run.returncode not in (0, 1) or (run.returncode == 1 and not problems):
        problems.append(f"plugin_cache --lint failed ({run.returncode}): {run.stderr.strip()}")
    return problems, props


def doc_blocks(root):
    """{element: its SECTION doc comment} from gst/'s sources."""
    blocks = {}
    for path in sorted(glob.glob(os.path.join(root, "gst", "**", "*.cpp"), recursive=True)):
        with open(path, encoding="utf-8") as f:
            text = f.read()
        for m in re.finditer(r"/\*\*\s*\n\s*\*\s*SECTION:element-([a-z0-9]+)(.*?)\*/", text, re.S):
            body = re.sub(r"^\s*\* ?", "", m.group(2), flags=re.M)
            blocks[m.group(1)] = (os.path.relpath(path, root), body)
    return blocks


def check_examples(elements, props, root):
    problems = []
    blocks = doc_blocks(root)
    for element in sorted(elements):
        if element not in blocks:
            problems.append(f"{element}: no 'SECTION:element-{element}' doc comment in gst/")
            continue
        path, body = blocks[element]
        if "## Example launch line" not in body:
            problems.append(f"{element} ({path}): no '## Example launch line' section")
        examples = re.findall(r"\|\[(.*?)\]\|", body, re.S)
        if not examples:
            problems.append(f"{element} ({path}): no |[ ... ]| example")
        for example in examples:
            tokens = example.replace("\\\n", " ").split()
            current = None
            for tok in tokens:
                if tok in elements:
                    current = tok
                elif tok == "!" or "=" not in tok or tok.startswith(("video/", "audio/")):
                    current = None
                elif current is not None:
                    key = tok.split("=", 1)[0]
                    if key not in props.get(current, set()):
                        problems.append(f"{element} ({path}): an example sets {current} {key}=, "
                                        f"which {current} does not have")
    return problems


def check_installed_docs(root):
    with open(os.path.join(root, "meson.build"), encoding="utf-8") as f:
        build = f.read()
    return [f"docs/{name} is not installed (install_data in meson.build)"
            for name in sorted(os.listdir(os.path.join(root, "docs")))
            if name.endswith(".md") and f"'docs/{name}'" not in build]


def main():
    ap = argparse.ArgumentParser()
    for arg in ("--source-root", "--generated", "--plugin", "--plugin-cache", "--origin"):
        ap.add_argument(arg, required=True)
    args = ap.parse_args()
    with open(args.generated, encoding="utf-8") as f:
        generated = json.load(f)
    problems = check_cache(generated, os.path.join(args.source_root, "docs",
                                                   "gst_plugins_cache.json"), args.origin)
    lint_problems, props = lint(args.plugin_cache, args.plugin)
    problems += lint_problems
    elements = {e for plugin in generated.values() for e in plugin["elements"]}
    for plugin in generated.values():
        for name, e in plugin["elements"].items():
            for key in ("description", "long-name", "klass", "author"):
                if not e.get(key):
                    problems.append(f"{name}: empty {key}")
    if set(props) != elements:
        problems.append(f"plugin_cache --lint saw {sorted(props)}, the cache {sorted(elements)}")
    problems += check_examples(elements, props, args.source_root)
    problems += check_installed_docs(args.source_root)
    n_props = sum(len(e.get("properties", {})) for p in generated.values()
                  for e in p["elements"].values())
    print(f"gst docs: {len(elements)} elements, {n_props} own properties, "
          f"{len(problems)} problems")
    for p in problems:
        print(f"  FAIL {p}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
