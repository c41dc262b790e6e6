/* ard: the umbrella header. Including it gives the whole public API; each module's header is its
 * manual (see the comment at the top of each). */
#ifndef ARD_ARD_H
#define ARD_ARD_H

#include "ard/arrow_abi.h"
#include "ard/astro.h"
#include "ard/core.h"
#include "ard/datasheet.h"
#include "ard/index.h"
#include "ard/nn.h"
#include "ard/parquet.h"
#include "ard/parquet_write.h"
#include "ard/science.h"
#include "ard/stream.h"
#include "ard/survey.h"

#endif
