// Adversarial corpus, part 1: escapes (see README.md in this folder).
import t from 'tap'
import { runCorpus } from './corpus.ts'
import { ESCAPE_CASES } from './escape.cases.ts'

runCorpus(t, ESCAPE_CASES)
