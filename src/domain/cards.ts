// The test users' cards: each brand, what it is called, which card scheme tokenises it, and what
// the ePayment API calls it (allowedCardTypes, and the card callback's cardType). One table.

export const CARD_BRANDS = ['VISA', 'VISA_CREDIT', 'MASTERCARD', 'MASTERCARD_CREDIT', 'DANKORT', 'VISA_DANKORT'] as const;
export type CardBrand = (typeof CARD_BRANDS)[number];

export interface BrandInfo {
  label: string;
  /** The badge on the card. */
  mark: string;
  /** The scheme of its network token; none for a standalone Dankort (it has no network token). */
  scheme: 'VISA' | 'MASTERCARD' | undefined;
  defaultLast4: string;
}

export const BRANDS: Record<CardBrand, BrandInfo> = {
  VISA: { label: 'Visa', mark: 'VISA', scheme: 'VISA', defaultLast4: '0010' },
  VISA_CREDIT: { label: 'Visa credit', mark: 'VISA', scheme: 'VISA', defaultLast4: '0030' },
  MASTERCARD: { label: 'Mastercard', mark: 'MC', scheme: 'MASTERCARD', defaultLast4: '0020' },
  MASTERCARD_CREDIT: { label: 'Mastercard credit', mark: 'MC', scheme: 'MASTERCARD', defaultLast4: '0040' },
  DANKORT: { label: 'Dankort', mark: 'DK', scheme: undefined, defaultLast4: '0050' },
  VISA_DANKORT: { label: 'Visa/Dankort', mark: 'V/DK', scheme: 'VISA', defaultLast4: '0060' },
};

export function brandInfo(brand: string): BrandInfo {
  return BRANDS[brand as CardBrand] ?? { label: brand, mark: brand.slice(0, 4), scheme: 'VISA', defaultLast4: '0000' };
}
