/* clseg: the command-line tool. Each subcommand lives in its own cmd_*.c file. */
#include <stdio.h>
#include <string.h>

#include "cli.h"

static const struct {
    const char *name;
    cli_command_fn run;
    const char *summary;
} commands[] = {
    {"devices", cmd_devices, "list OpenCL platforms and devices"},
    {"verify", cmd_verify, "check every kernel on a device against the plain-C reference"},
    {"phantoms", cmd_phantoms, "write a synthetic dataset in the kaggle_3m layout"},
    {"data", cmd_data, "load a dataset and report its patients, slices and skipped files"},
    {"bench", cmd_bench, "benchmarks: 'bench ops' times every op at U-Net's shapes"},
    {"summary", cmd_summary, "a model's layers, parameters, GFLOPs and planned memory"},
    {"train", cmd_train, "train a model on a dataset folder, or resume a run"},
    {"eval", cmd_eval, "score a checkpoint on a dataset: Dice and IoU per patient and per slice"},
    {"predict", cmd_predict, "segment slices with a checkpoint: masks, overlays and a CSV"},
    {"tune", cmd_tune, "search the kernels' tunables on a device and store the fastest values"},
};

static void usage(FILE *f)
{
    fprintf(f, "usage: clseg COMMAND [OPTIONS]   (clseg COMMAND --help for its options)\n\ncommands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
    fprintf(f, "\nenvironment:\n"
               "  CLSEG_DEVICE      default device selector (P:D, cpu, gpu, accel, ref, or part of a name)\n"
               "  CLSEG_CACHE_DIR   kernel binary cache folder, or 'off' (default ~/.cache/clseg)\n"
               "  CLSEG_KERNEL_DIR  read kernel sources from this folder instead of the built-in copies\n"
               "  CLSEG_TUNED_DIR   folder of the tuned files 'clseg tune' writes, or 'off' (default ~/.config/clseg/tuned)\n"
               "  CLSEG_TUNABLES    kernel tunables to set, e.g. gemm.GEMM_MR=16,basic.EW_WG=128 (clseg tune --show)\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return CLI_USAGE;
    }
    if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "help") == 0) {
        usage(stdout);
        return CLI_OK;
    }
    if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "version") == 0) {
        printf("clseg %s\n", clseg_version());
        return CLI_OK;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(argv[1], commands[i].name) == 0)
            return commands[i].run(argc - 1, argv + 1);
    cli_error("unknown command '%s'", argv[1]);
    usage(stderr);
    return CLI_USAGE;
}
