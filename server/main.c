/* main.c — the feedbackd command line: settings, then one subcommand. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "fd_config.h"
#include "util/config.h"
#include "util/log.h"

static void usage(FILE *out) {
  fprintf(out,
          "feedbackd %s — collects human feedback on LLM chat responses\n\n"
          "usage: feedbackd [--config PATH] [--setting VALUE ...] <command> [args]\n\n"
          "commands:\n"
          "  serve                                   run the HTTP server (applies pending migrations)\n"
          "  migrate                                 apply pending database migrations and exit\n"
          "  projects create <slug> [--name N] [--origins O,...] [SETTINGS]\n"
          "  projects set <slug> SETTINGS            change settings, print the project\n"
          "  projects show <slug>                    print the project with its settings\n"
          "  projects list\n"
          "      SETTINGS: [--reactions JSON] [--span-labels JSON] [--default-consent train|none]\n"
          "                [--dataset-license SPDX|none] [--detect-feedback on|off]\n"
          "                [--detect-phrases JSON] [--retention-days D|keep]   (docs/operations.md)\n"
          "  keys create --project <slug> --scopes ingest,read,export,admin [--label L]\n"
          "                                          prints the new key alone on one line\n"
          "  keys list [--project <slug>]\n"
          "  keys revoke <id>\n"
          "  export [--project <slug>] [--format F] [-o FILE | --out DIR] [--since T] [--until T]\n"
          "         [--model M] [--split all|train|test] [--test-fraction F] [--min-margin M]\n"
          "         [--after WATERMARK] [--include-meta]     offline preference export (docs/export.md)\n"
          "  config                                  print the effective settings\n\n"
          "  --help, --version\n\n",
          FEEDBACKD_VERSION);
  fd_config_print_help();
}

int main(int argc, char **argv) {
  struct fd_config cfg;
  int rc = 2;
  switch (fd_config_load(&cfg, &argc, argv)) {
    case FD_CONFIG_HELP:
      usage(stdout);
      rc = 0;
      goto out;
    case FD_CONFIG_VERSION:
      printf("feedbackd %s\n", FEEDBACKD_VERSION);
      rc = 0;
      goto out;
    case FD_CONFIG_ERROR: goto out;
    case FD_CONFIG_OK: break;
  }
  enum fd_log_level level;
  if (!fd_log_parse_level(cfg.log_level, &level)) {
    fprintf(stderr, "feedbackd: log_level must be debug, info, warn or error\n");
    goto out;
  }
  fd_log_set_level(level);
  const char *cmd = argc > 1 ? argv[1] : "";
  if (strcmp(cmd, "serve") == 0)
    rc = fd_cli_serve(&cfg, argc, argv);
  else if (strcmp(cmd, "migrate") == 0)
    rc = fd_cli_migrate(&cfg, argc, argv);
  else if (strcmp(cmd, "projects") == 0)
    rc = fd_cli_projects(&cfg, argc, argv);
  else if (strcmp(cmd, "keys") == 0)
    rc = fd_cli_keys(&cfg, argc, argv);
  else if (strcmp(cmd, "export") == 0)
    rc = fd_cli_export(&cfg, argc, argv);
  else if (strcmp(cmd, "config") == 0) {
    fd_config_dump(&cfg, stdout);
    rc = 0;
  } else {
    if (*cmd) fprintf(stderr, "feedbackd: unknown command '%s'\n\n", cmd);
    usage(stderr);
  }
out:
  fd_config_free(&cfg);
  return rc;
}
