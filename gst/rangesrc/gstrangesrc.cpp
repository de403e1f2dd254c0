#include "elements.h"
GST_ELEMENT_REGISTER_DEFINE(rangesrc, "rangesrc", GST_RANK_NONE, GST_TYPE_BIN);
