/* SPDX-License-Identifier: MIT */
/* Included by every unit test instead of <cmocka.h> directly: cmocka.h needs these headers before
 * it, an order that include sorting (make fmt) would otherwise undo. */
#pragma once

/* clang-format off */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
/* clang-format on */
