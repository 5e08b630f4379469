/* pmx_log.c - registration of portmux's rte_log types */
#include "pmx_log.h"

int pmx_logtype_main;
int pmx_logtype_ctl;
int pmx_logtype_dp;

void pmx_log_init(void)
{
	pmx_logtype_main = rte_log_register_type_and_pick_level("portmux.main", RTE_LOG_INFO);
	pmx_logtype_ctl = rte_log_register_type_and_pick_level("portmux.ctl", RTE_LOG_INFO);
	pmx_logtype_dp = rte_log_register_type_and_pick_level("portmux.dp", RTE_LOG_NOTICE);
}
