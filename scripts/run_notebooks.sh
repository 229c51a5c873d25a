#!/usr/bin/env bash
# Executes python/notebooks/*.ipynb in place with Debian's Python, so the committed notebooks
# carry their outputs. Run after scripts/setup.sh, whenever a notebook or a result changes.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build_dir=${TESSEL_BUILD_DIR:-$root/build}
export PYTHONPATH="$root/python:$build_dir/python" SYSTEMC_DISABLE_COPYRIGHT_MESSAGE=1
# The kernel's debugger warns about frozen modules on every start; nothing here debugs.
export PYDEVD_DISABLE_FILE_VALIDATION=1
for notebook in "$root"/python/notebooks/*.ipynb; do
  echo "executing $notebook"
  /usr/bin/python3 -c '
import sys, nbformat, nbclient
path = sys.argv[1]
notebook = nbformat.read(path, as_version=4)
nbclient.NotebookClient(notebook, timeout=600, kernel_name="python3",
                        resources={"metadata": {"path": sys.argv[2]}}).execute()
nbformat.write(notebook, path)' "$notebook" "$root/python/notebooks"
done
