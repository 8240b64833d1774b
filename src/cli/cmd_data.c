/* tkd data import: placeholder until the data module lands in this commit series. */
#include "cli.h"

#include <stdio.h>

int tkd_cmd_data(int argc, char **argv) {
    (void)argc;
    (void)argv;
    fprintf(stderr, "tkd data: not built yet\n");
    return TKD_EXIT_FAIL;
}
