import { lazy, Suspense, useCallback, useEffect, useState } from 'react';
import { api, setUnauthorizedHandler, type Me } from './api.ts';
import { Link } from './components/Link.tsx';
import { ProgressBanner } from './components/ProgressBanner.tsx';
import { Loading } from './components/States.tsx';
import { Dashboard } from './pages/Dashboard.tsx';
import { SignIn } from './pages/SignIn.tsx';
import { navigate, useLocation } from './router.ts';

// Pages other than the dashboard are loaded when first opened (they carry the charts).
const SymbolPage = lazy(() => import('./pages/SymbolPage.tsx'));
const Portfolios = lazy(() => import('./pages/Portfolios.tsx'));
const PortfolioPage = lazy(() => import('./pages/PortfolioPage.tsx'));
const WhatIf = lazy(() => import('./pages/WhatIf.tsx'));
const Batch = lazy(() => import('./pages/Batch.tsx'));
const RiskModel = lazy(() => import('./pages/RiskModel.tsx'));

/** Sends the person to sign-in, remembering where they were. */
function toSignIn() {
  if (location.pathname === '/signin') return;
  navigate(`/signin?next=${encodeURIComponent(location.pathname + location.search)}`, { replace: true });
}

export function App() {
  const { path, query } = useLocation();
  const [me, setMe] = useState<Me | null | undefined>(undefined);

  useEffect(() => {
    setUnauthorizedHandler(() => {
      setMe(null);
      toSignIn();
    });
    api<Me>('/auth/me').then(setMe, () => {
      setMe(null);
      toSignIn();
    });
  }, []);

  const signedIn = useCallback((user: Me) => {
    setMe(user);
    const next = new URLSearchParams(location.search).get('next');
    navigate(next && next.startsWith('/') && !next.startsWith('//') ? next : '/', { replace: true });
  }, []);

  const signOut = async () => {
    await api('/auth/logout', { method: 'POST' }).catch(() => undefined);
    setMe(null);
    navigate('/signin', { replace: true });
  };

  if (path === '/signin') return <SignIn onSignedIn={signedIn} />;
  if (me === undefined) return <Loading what="session" />;
  if (me === null) return <Loading what="sign-in" />;

  let page;
  let m: RegExpMatchArray | null;
  if (path === '/') page = <Dashboard query={query} />;
  else if ((m = path.match(/^\/symbols\/([^/]+)$/))) page = <SymbolPage symbol={decodeURIComponent(m[1]!)} />;
  else if (path === '/portfolios') page = <Portfolios />;
  else if ((m = path.match(/^\/portfolios\/(\d+)$/))) page = <PortfolioPage id={Number(m[1])} />;
  else if (path === '/what-if') page = <WhatIf />;
  else if (path === '/risk-model') page = <RiskModel />;
  else if (path === '/batch') page = <Batch admin={me.admin} />;
  else
    page = (
      <div className="state empty">
        No page here. <Link to="/">Go to the dashboard</Link>
      </div>
    );

  const nav = [
    ['/', 'Dashboard'],
    ['/portfolios', 'Portfolios'],
    ['/what-if', 'What-if'],
    ['/risk-model', 'Risk model'],
    ...(me.admin ? [['/batch', 'Batch']] : []),
  ] as const;
  return (
    <div className="app">
      <header className="top">
        <Link to="/" className="brand">
          Factor Universe
        </Link>
        <nav>
          {nav.map(([to, label]) => (
            <Link
              key={to}
              to={to}
              className={(to === '/' ? path === '/' : path.startsWith(to)) ? 'active' : ''}
            >
              {label}
            </Link>
          ))}
        </nav>
        <span className="user">
          <span data-testid="username">{me.username}</span>
          <button type="button" onClick={signOut}>
            Sign out
          </button>
        </span>
      </header>
      <ProgressBanner />
      <main>
        <Suspense fallback={<Loading what="page" />}>{page}</Suspense>
      </main>
    </div>
  );
}
