// SPDX-License-Identifier: GPL-2.0
/* hisimig-trace: a command table in the style of bpftool. */
#include <stdio.h>
#include <string.h>

#include <bpf/libbpf.h>

#include "cli.h"
#include "version.h"

static const struct hm_command commands[] = {
	{ "run", "trace this kernel live and report findings", hm_cmd_run },
	{ "record", "record a trace file of this kernel", hm_cmd_record },
	{ "replay", "analyse a recorded trace file", hm_cmd_replay },
	{ "ci", "trace while a command runs; CI exit status and reports", hm_cmd_ci },
	{ "probe", "what this kernel offers: BTF, lockdown, attach points", hm_cmd_probe },
	{ "dump", NULL, hm_cmd_dump }, /* one line per trace record */
	{ "gen", NULL, hm_cmd_gen }, /* test scenarios as trace files */
};

static void usage(FILE *out)
{
	fprintf(out, "Usage: hisimig-trace COMMAND [OPTIONS]\n"
		     "PF/VF device-lock order, deadlock, lifetime and VFIO migration checks for\n"
		     "the PCI SR-IOV + VFIO live-migration stack.\n\nCommands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (commands[i].summary)
			fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
	fprintf(out, "\n'hisimig-trace COMMAND --help' describes each command.\n"
		     "Exit status: 0 clean, 1 findings, 2 usage or input error; ci adds\n"
		     "3 (the command failed) and 4 (could not trace).\n");
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return HM_EXIT_USAGE;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return hm_cli_close_stdout() ? HM_EXIT_CLEAN : HM_EXIT_USAGE;
	}
	if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V")) {
		printf("hisimig-trace %s (event ABI %d, libbpf %s)\n", HM_VERSION, HM_ABI_VERSION,
		       libbpf_version_string());
		return hm_cli_close_stdout() ? HM_EXIT_CLEAN : HM_EXIT_USAGE;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		int status;

		if (strcmp(argv[1], commands[i].name))
			continue;
		status = commands[i].run(argc - 1, argv + 1);
		/* every command's findings, dumps and summaries: lost output is an error */
		return hm_cli_close_stdout() ? status : HM_EXIT_USAGE;
	}
	hm_cli_error("unknown command '%s'; try 'hisimig-trace --help'", argv[1]);
	return HM_EXIT_USAGE;
}
