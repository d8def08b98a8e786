# Reference values for impact.effects.ate_competing, computed with R's riskRegression::ate.
#
# Run from the repository root:   Rscript tests/reference/aiptw.R
# Needs riskRegression (Debian: apt-get install r-cran-riskregression) and prodlim.
# Writes tests/reference/fixtures/aiptw_mgus2.csv. pytest only reads it; the suite never calls R.
#
# Data: tests/reference/fixtures/mgus2.csv (survival::mgus2, written by survival.R), rows with
# hgb present; competing exits 1 = plasma cell malignancy (pcm), 2 = death, 0 = censored;
# "treatment" = male. Scenarios:
#   cox_cause1  cause 1, censoring Cox model on male + age + hgb
#   km_cause2   cause 2, Kaplan-Meier censoring (~ 1)
#   untied      as cox_cause1 on times made distinct: etime + (i + 1) / (2 * (n + 1)), i = 0..n-1 the
#               row position (mgus2 times are whole months, so this breaks every tie and keeps the order
#               of distinct months). Without ties riskRegression's tie conventions have no effect, so
#               both of impact's `ties` settings must agree with it here.
# All Cox models use Breslow ties (CSC passes ties on to coxph; coxph's default is Efron).

suppressPackageStartupMessages({library(survival); library(prodlim); library(riskRegression)})

fixdir <- file.path("tests", "reference", "fixtures")
header <- sprintf("# R %s, survival %s, riskRegression %s; written by tests/reference/aiptw.R",
                  paste(R.version$major, R.version$minor, sep = "."),
                  as.character(packageVersion("survival")), as.character(packageVersion("riskRegression")))
write_fixture <- function(df, name) {
  path <- file.path(fixdir, name)
  con <- file(path, "w"); writeLines(header, con); close(con)
  suppressWarnings(write.table(df, path, sep = ",", row.names = FALSE, append = TRUE,
                               qmethod = "double", col.names = TRUE))
}
options(digits = 15)

m <- read.csv(file.path(fixdir, "mgus2.csv"), comment.char = "#")
m <- m[!is.na(m$hgb), ]
d0 <- data.frame(etime = m$etime, status = match(m$event, c("censor", "pcm", "death")) - 1,
                male = factor(m$male), age = m$age, hgb = m$hgb)
horizons <- c(60, 120, 240)

run <- function(scenario, cause, censor_formula, d = d0) {
  csc <- CSC(Hist(etime, status) ~ male + age + hgb, data = d, ties = "breslow")
  glm1 <- glm(male ~ age + hgb, data = d, family = binomial)
  cens <- coxph(censor_formula, data = d, ties = "breslow", x = TRUE, y = TRUE)
  a <- ate(event = csc, treatment = glm1, censor = cens, data = d, times = horizons, cause = cause,
           estimator = c("GFORMULA", "IPTW", "AIPTW"), se = TRUE, band = FALSE, B = 0, verbose = FALSE)
  mr <- as.data.frame(a$meanRisk)
  dr <- as.data.frame(a$diffRisk)
  rbind(
    data.frame(scenario = scenario, estimator = tolower(mr$estimator),
               arm = ifelse(mr$treatment == "1", "treated", "control"), horizon = mr$time,
               estimate = mr$estimate, se = mr$se, ci_low = mr$lower, ci_high = mr$upper,
               p_value = NA),
    data.frame(scenario = scenario, estimator = tolower(dr$estimator), arm = "treated - control",
               horizon = dr$time, estimate = dr$estimate, se = dr$se, ci_low = dr$lower,
               ci_high = dr$upper, p_value = dr$p.value))
}

du <- d0
du$etime <- du$etime + (seq_len(nrow(du))) / (2 * (nrow(du) + 1))
stopifnot(!anyDuplicated(du$etime))
out <- rbind(run("cox_cause1", 1, Surv(etime, status == 0) ~ male + age + hgb),
             run("km_cause2", 2, Surv(etime, status == 0) ~ 1),
             run("untied", 1, Surv(etime, status == 0) ~ male + age + hgb, du))
write_fixture(out, "aiptw_mgus2.csv")
