// Adversarial corpus, part 2: exhaustion (see README.md in this folder).
import t from 'tap'
import { runCorpus } from './corpus.ts'
import { EXHAUSTION_CASES } from './exhaustion.cases.ts'

runCorpus(t, EXHAUSTION_CASES)
