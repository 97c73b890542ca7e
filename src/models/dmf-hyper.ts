/** DMF's sizes (RecBole's hyperparameter names) and their validation. */
import { checkSizes } from '../nn/layer-sizes.js';
import { checkPositiveInt } from '../util/checks.js';
import { UserError } from '../util/errors.js';

/** DMF's layer sizes, validated by resolveDmfHyper. */
export interface DmfHyper {
  /** Users including padding user 0. */
  nUsers: number;
  /** Items including padding item 0. */
  nItems: number;
  /** RecBole `user_embedding_size` (output of user_linear). */
  userEmbeddingSize: number;
  /** RecBole `item_embedding_size` (output of item_linear). */
  itemEmbeddingSize: number;
  /** RecBole `user_hidden_size_list`. */
  userHidden: number[];
  /** RecBole `item_hidden_size_list`. */
  itemHidden: number[];
}

/** Standard deviation of the N(0, std²) initialisation of every DMF weight (biases start at zero). */
export const DMF_INIT_STD = 0.01;

/** Validates DMF sizes: positive integers; both towers must end at the same size. */
export function resolveDmfHyper(h: Readonly<Record<string, unknown>>): DmfHyper {
  const nUsers = checkPositiveInt('nUsers', h.nUsers);
  const nItems = checkPositiveInt('nItems', h.nItems);
  const userEmbeddingSize = checkPositiveInt('userEmbeddingSize', h.userEmbeddingSize);
  const itemEmbeddingSize = checkPositiveInt('itemEmbeddingSize', h.itemEmbeddingSize ?? h.userEmbeddingSize);
  const userHidden = checkSizes('userHidden', h.userHidden);
  const itemHidden = checkSizes('itemHidden', h.itemHidden ?? h.userHidden);
  const userEnd = userHidden[userHidden.length - 1],
    itemEnd = itemHidden[itemHidden.length - 1];
  if (userEnd !== itemEnd) {
    throw new UserError(
      `DMF hidden sizes do not chain: the user tower ends at ${userEnd}, the item tower at ${itemEnd}` +
        ' (the last sizes must match for the dot product)',
    );
  }
  return { nUsers, nItems, userEmbeddingSize, itemEmbeddingSize, userHidden, itemHidden };
}
