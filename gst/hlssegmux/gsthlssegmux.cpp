#include "elements.h"
GST_ELEMENT_REGISTER_DEFINE(hlssegmux, "hlssegmux", GST_RANK_NONE, GST_TYPE_BIN);
