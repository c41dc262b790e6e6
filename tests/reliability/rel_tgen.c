/* The index tests' dataset generator, compiled into the reliability tests too: one generator for
 * every test folder, without a build-file edit (kept apart from cmocka, whose fail() macro would
 * clash with the generator's helper). */
#include "index/tgen.c"
/* The stream tests' tile writer (random, hardly compressible spectra). */
#include "stream/st_util.c"
