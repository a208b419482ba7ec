#pragma once
#include <hiredis/hiredis.h>
#include <hiredis/read.h>

/* The largest array reply Strata's readers take (RESPReader.swift says why). */
#define STRATA_RESP_MAX_ARRAY_ELEMENTS 16777216
