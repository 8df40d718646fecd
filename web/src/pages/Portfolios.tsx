import { Link } from '../components/Link.tsx';
import { Empty, Failed, Loading } from '../components/States.tsx';
import { fmtUsd } from '../format.ts';
import { useApi } from '../useApi.ts';

export interface Portfolio {
  id: number;
  name: string;
  currency: string;
  equity_balance: number;
  /** the newest snapshot's equity and date (the list only) */
  current_equity?: number | null;
  current_date?: string | null;
}

export default function Portfolios() {
  const { data, error } = useApi<{ portfolios: Portfolio[] }>('/portfolios');
  // breaches on each portfolio's newest computed date (METHODOLOGY §15), shown as a badge
  const counts = useApi<{ portfolios: { portfolio_id: number; breaches: number }[] }>(
    '/portfolios/breach-counts',
  );
  const breaches = new Map(counts.data?.portfolios.map((c) => [c.portfolio_id, c.breaches]) ?? []);
  if (error) return <Failed error={error} />;
  if (!data) return <Loading what="portfolios" />;
  return (
    <section>
      <h1>Portfolios</h1>
      {data.portfolios.length === 0 ? (
        <Empty>You have no portfolios yet. Import one with the CLI, or try a book on the What-if page.</Empty>
      ) : (
        <div className="table-scroll">
          <table className="plain wide" aria-label="Portfolios">
            <thead>
              <tr>
                <th className="text">Name</th>
                <th className="text">Currency</th>
                <th>Equity</th>
                <th className="text">As of</th>
                <th>Starting equity</th>
              </tr>
            </thead>
            <tbody>
              {data.portfolios.map((p) => (
                <tr key={p.id}>
                  <td className="text">
                    <Link to={`/portfolios/${p.id}`}>{p.name}</Link>
                    {(breaches.get(p.id) ?? 0) > 0 && (
                      <Link to={`/portfolios/${p.id}?tab=limits`}>
                        {' '}
                        <span className="badge badge-breach" data-testid="breach-badge">
                          {breaches.get(p.id)} breach{breaches.get(p.id) === 1 ? '' : 'es'}
                        </span>
                      </Link>
                    )}
                  </td>
                  <td className="text">{p.currency}</td>
                  <td className="num" data-testid="current-equity">
                    {fmtUsd(p.current_equity ?? p.equity_balance)}
                  </td>
                  <td className="text">{p.current_date ?? 'not yet computed'}</td>
                  <td className="num muted">{fmtUsd(p.equity_balance)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
