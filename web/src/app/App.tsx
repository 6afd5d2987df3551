// Providers and routes. Pages are loaded on demand (code splitting), so the
// first screen downloads only the shell and the page it shows.
import { QueryClientProvider, type QueryClient } from '@tanstack/react-query';
import { lazy, Suspense, useState } from 'react';
import { BrowserRouter, Navigate, Route, Routes, useLocation } from 'react-router';
import { SessionProvider, useSession } from '../auth/session';
import { I18nProvider, useI18n } from '../i18n/i18n';
import { makeQueryClient } from '../lib/queryClient';
import { RealtimeProvider } from '../realtime/RealtimeProvider';
import { Layout } from './Layout';
import { LoginPage } from '../features/login/LoginPage';

const UploadPage = lazy(() => import('../features/upload/UploadPage'));
const DashboardPage = lazy(() => import('../features/dashboard/DashboardPage'));
const RealtimePage = lazy(() => import('../features/realtime/RealtimePage'));
const ActionsPage = lazy(() => import('../features/actions/ActionsPage'));
const ModelsPage = lazy(() => import('../features/models/ModelsPage'));
const SettingsPage = lazy(() => import('../features/settings/SettingsPage'));

function Loading() {
  const { t } = useI18n();
  return (
    <p role="status" className="muted">
      {t('common.loading')}
    </p>
  );
}

function RequireSession({ children }: { children: React.ReactNode }) {
  const { status } = useSession();
  const location = useLocation();
  if (status === 'checking') return <Loading />;
  if (status !== 'ready') return <Navigate to="/login" replace state={{ from: location.pathname }} />;
  return <>{children}</>;
}

export function AppRoutes() {
  return (
    <Routes>
      <Route path="/login" element={<LoginPage />} />
      <Route
        element={
          <RequireSession>
            <Layout />
          </RequireSession>
        }
      >
        <Route index element={<Navigate to="/dashboard" replace />} />
        <Route path="/dashboard" element={<Suspense fallback={<Loading />}><DashboardPage /></Suspense>} />
        <Route path="/upload" element={<Suspense fallback={<Loading />}><UploadPage /></Suspense>} />
        <Route path="/realtime" element={<Suspense fallback={<Loading />}><RealtimePage /></Suspense>} />
        <Route path="/actions" element={<Suspense fallback={<Loading />}><ActionsPage /></Suspense>} />
        <Route path="/models" element={<Suspense fallback={<Loading />}><ModelsPage /></Suspense>} />
        <Route path="/settings" element={<Suspense fallback={<Loading />}><SettingsPage /></Suspense>} />
        <Route path="*" element={<Navigate to="/dashboard" replace />} />
      </Route>
    </Routes>
  );
}

export function App({ queryClient }: { queryClient?: QueryClient }) {
  const [client] = useState(() => queryClient ?? makeQueryClient());
  return (
    <I18nProvider>
      <QueryClientProvider client={client}>
        <SessionProvider>
          <RealtimeProvider>
            <BrowserRouter>
              <AppRoutes />
            </BrowserRouter>
          </RealtimeProvider>
        </SessionProvider>
      </QueryClientProvider>
    </I18nProvider>
  );
}
