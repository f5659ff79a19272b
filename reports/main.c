/* reports/main.c - the gctune executable: everything is in gctune_main
 * (reports/commands.c), so that tests can run the command in-process. */
#include "reports/cli.h"

int main(int argc, char **argv)
{
    return gctune_main(argc, argv);
}
