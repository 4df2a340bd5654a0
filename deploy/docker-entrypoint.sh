#!/bin/sh
# Entry point of the PariVision image: a fresh prometheus_client multiprocess folder (when
# PROMETHEUS_MULTIPROC_DIR is set, e.g. for the Celery worker) so samples of a previous
# container run never mix with this one's, then the command.
set -eu
if [ -n "${PROMETHEUS_MULTIPROC_DIR:-}" ]; then
  rm -rf "${PROMETHEUS_MULTIPROC_DIR:?}"
  mkdir -p "$PROMETHEUS_MULTIPROC_DIR"
fi
exec "$@"
